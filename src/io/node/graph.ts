/**
 * The computational graph of a configured model (`keel graph --config run.json`): builds the configured model, runs one forward pass and the loss
 * on a batch, and writes the computational graph as DOT, Mermaid and SVG (Graphviz compiled to
 * WebAssembly, from npm), with the bytes kept for backward.
 */
import { graphStats, toDot, toMermaid } from '../../autograd/export.js';
import { crossEntropy } from '../../nn/functional/loss.js';
import { buildModel, dataShape } from '../../run/build.js';
import type { RunConfig } from '../../run/config.js';
import { randint, randn } from '../../tensor/create.js';
import { optionalPackage } from '../../util/optional.js';
import { Rng } from '../../util/random.js';
import { RunDir } from './runDir.js';

/** Writes graph.dot, graph.mmd and graph.svg into runs/<name>/; returns their paths. */
export async function writeGraph(
  config: RunConfig,
  o: { out: string; batch?: number; log: (l: string) => void },
): Promise<{ dot: string; mermaid: string; svg: string }> {
  const g = new Rng(config.seed);
  const { inputs, classes } = dataShape(config);
  const model = buildModel(config, inputs, classes, g);
  const batch = o.batch ?? Math.min(config.data.batchSize, 8);
  // The graph depends on shapes only, so a random batch of the right shape stands in for data.
  const x = randn([batch, inputs], { generator: g });
  x.name = 'input';
  const y = randint(0, classes, [batch], { generator: g });
  const loss = crossEntropy(model.forward(x), y);
  loss.name = 'loss';
  for (const [name, p] of model.namedParameters()) p.name = name;
  const { Graphviz } = await optionalPackage(
    () => import('@hpcc-js/wasm-graphviz'),
    ['@hpcc-js/wasm-graphviz'],
    'drawing the graph as SVG (keel graph)',
  );
  const gv = await Graphviz.load();
  const dotText = toDot(loss);
  const svgText = gv.dot(dotText);
  const run = new RunDir(o.out, `${config.name}-graph`, 'output');
  let dot: string;
  let mermaid: string;
  let svg: string;
  try {
    dot = run.writeFile('graph.dot', dotText);
    mermaid = run.writeFile('graph.mmd', toMermaid(loss));
    svg = run.writeFile('graph.svg', svgText);
  } finally {
    run.release();
  }
  const stats = graphStats(loss);
  o.log(
    `graph of ${config.name} at batch ${batch}: ${stats.nodes} ops, ${stats.savedBytes} bytes kept for backward (${stats.activationBytes} of activations)`,
  );
  o.log(`wrote ${dot}, ${mermaid} and ${svg}`);
  return { dot, mermaid, svg };
}
