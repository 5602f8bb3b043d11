/**
 * The layer line of keel (DESIGN.md §2), checked by dependency-cruiser in `npm run lint`: each layer
 * imports only the layers before it in LAYERS (type-only imports count: a type is a dependency too),
 * nothing imports src/cli or the package index, peers in a layer stay apart where the design says
 * so, platform code (node:* modules) stays at the edges (src/io/node, src/cli), and library code
 * loads the command line's optional packages only lazily. Globals (process, document, …) are the
 * linter's part: biome.json's noRestrictedGlobals. test/layers.test.ts plants bad imports and
 * watches this fail; `npm run check:package` installs the packed library without the optional
 * packages and runs it.
 */

/** The layers, lowest first: a module may import its own layer and the ones before it. */
const LAYERS = [
  ['util', '^src/util/'],
  ['backend', '^src/backend/'],
  ['tensor', '^src/tensor/'],
  ['autograd', '^src/autograd/'],
  ['ops', '^src/ops/'],
  ['nn, optim', '^src/(nn|optim)/'],
  ['format', '^src/format/'],
  // Compiled steps: the tracer, the plan passes and `compile`, over ops and the backends' runners.
  ['compile', '^src/compile/'],
  ['data, train', '^src/(data|train)/'],
  // The report's building blocks (Vega-Lite specs, the HTML page, bins, the SVG renderer): what
  // diagnostics and experiments draw with. The report builders (its pages) sit above the run layer.
  ['report blocks', '^src/report/(bins|html|plots|render)\\.ts$'],
  ['diagnostics, shift', '^src/(diagnostics|shift)/'],
  ['run', '^src/run/'],
  ['experiments, sweep', '^src/(experiments|sweep)/'],
  ['report pages', '^src/report/(?!(bins|html|plots|render)\\.ts$)'],
  ['io', '^src/io/'],
  ['cli', '^src/cli/'],
];

/** Peers of a layer that must not import each other (DESIGN.md §2), and the backend's isolation. */
const APART = [
  ['optim never imports nn (it tests without modules)', '^src/optim/', '^src/nn/'],
  ['nn does not import optim', '^src/nn/', '^src/optim/'],
  ['nn modules never touch a backend', '^src/nn/', '^src/backend/'],
  ['optim never touches a backend', '^src/optim/', '^src/backend/'],
  ['data does not import train', '^src/data/', '^src/train/'],
  ['diagnostics and shift stay apart', '^src/diagnostics/', '^src/shift/'],
  ['shift and diagnostics stay apart', '^src/shift/', '^src/diagnostics/'],
  ['experiments and sweeps stay apart', '^src/experiments/', '^src/sweep/'],
  ['sweeps and experiments stay apart', '^src/sweep/', '^src/experiments/'],
];

/**
 * Known violations, reported as warnings until they are fixed: each names the rule it breaks, the
 * importing file and the module it imports (that file is exempt from that rule meanwhile). None
 * stand now; an entry is { rule, from, to } with path regexes.
 */
const KNOWN = [];

/** The importing files exempt from a rule while their known violation stands. */
const exempt = (rule) => KNOWN.filter((k) => k.rule === rule).map((k) => k.from);

const forbidden = [
  ...LAYERS.slice(0, -1).map(([name, path], i) => ({
    name: `layer: ${name}`,
    comment: `${name} may import only ${LAYERS.slice(0, i + 1)
      .map(([n]) => n)
      .join(', ')} (DESIGN.md §2)`,
    severity: 'error',
    from: { path, pathNot: exempt(`layer: ${name}`) },
    to: { path: LAYERS.slice(i + 1).map(([, p]) => p) },
  })),
  ...APART.map(([name, from, to]) => ({
    name: `apart: ${name}`,
    severity: 'error',
    from: { path: from, pathNot: exempt(name) },
    to: { path: to },
  })),
  ...KNOWN.map((k) => ({
    name: `known violation, to fix: ${k.rule}`,
    comment: 'a listed exception to the layer line: KNOWN in .dependency-cruiser.cjs',
    severity: 'warn',
    from: { path: k.from },
    to: { path: k.to },
  })),
  {
    name: 'nothing imports the CLI',
    comment: 'src/cli is the program: the lab, tests and benchmarks use the library beneath it',
    severity: 'error',
    from: { pathNot: '^src/cli/' },
    to: { path: '^src/cli/' },
  },
  {
    name: 'nothing in src imports the package entries',
    comment: 'src/index.ts and src/onnx.ts are facades for users; modules import what they use from its home',
    severity: 'error',
    from: { path: '^src/' },
    to: { path: '^src/(index|onnx)\\.ts$' },
  },
  {
    name: 'platform code only at the edges',
    comment: 'node:* modules only in src/io/node and src/cli; the rest runs in browsers too',
    severity: 'error',
    from: { path: '^(src|lab/src)/', pathNot: '^src/(io/node|cli)/' },
    to: { dependencyTypes: ['core'] },
  },
  {
    name: 'library code loads optional packages lazily',
    comment:
      "the command line's packages (optional peer dependencies) are imported statically only in src/io, src/cli and the ONNX modules (the keel/onnx entry); elsewhere with import() where used",
    severity: 'error',
    from: { path: '^src/', pathNot: ['^src/(io|cli)/', '^src/format/onnx(Run)?\\.ts$'] },
    to: { dependencyTypes: ['npm-peer', 'npm-dev'], dependencyTypesNot: ['type-only'], dynamic: false },
  },
];

module.exports = {
  forbidden,
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^src/backend/wasm/binary\\.generated\\.ts$'] },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'node', 'default'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.d.ts'],
    },
  },
};
