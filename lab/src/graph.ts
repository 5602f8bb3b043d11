/**
 * The graph of one training step, drawn: keel's DOT export laid out by Graphviz compiled to wasm
 * (npm @hpcc-js/wasm-graphviz, the same renderer `keel graph` uses), loaded on first use.
 */
let graphviz: Promise<{ dot(src: string): string }> | null = null;

export async function renderDot(dot: string): Promise<string> {
  graphviz ??= import('@hpcc-js/wasm-graphviz').then((m) => m.Graphviz.load());
  return (await graphviz).dot(dot);
}
