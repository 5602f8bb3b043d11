// Eager memory handed back without the garbage collector: the activations between a Sequential's
// own layers and the dropout masks go back to the pool when backward frees the nodes that saved
// them, a backward rule's temporaries when the sweep has handed its results on, and gradients
// nobody read at zeroGrad (autograd/transient.ts, engine.ts).
// Pinned here: a plain synchronous loop stops taking fresh memory once warm; the numbers are those
// of a model that keeps everything; whatever user code can still reach stays readable.
import { describe, expect, it } from 'vitest';
import { stats as hostStats } from '../src/backend/host.js';
import * as k from '../src/index.js';
import { nn, optim, Rng, type Tensor } from '../src/index.js';

/** A Sequential subclass: not keel's own class, so nothing in it is handed back early. */
class KeepingSequential extends nn.Sequential {}

type Activation = new () => nn.Module;

/**
 * 64 × 512 activations: 128 KB buffers, pooled sizes, so the pool's stats show them. ReLU's
 * backward is one kernel; tanh's, sigmoid's, GELU's and SiLU's are built of several ops, whose
 * temporaries the sweep hands back.
 */
function mlp(
  Seq: typeof nn.Sequential,
  seed: number,
  [A, B]: [Activation, Activation] = [nn.ReLU, nn.ReLU],
): nn.Sequential {
  const r = new Rng(seed);
  return new Seq(
    new nn.Linear(32, 512, { generator: r }),
    new A(),
    new nn.Dropout(0.3, new Rng(seed + 1)),
    new nn.Linear(512, 512, { generator: r }),
    new B(),
    new nn.Linear(512, 4, { generator: r }),
  );
}

function data(seed: number): { x: Tensor; y: Tensor } {
  const g = new Rng(seed);
  return { x: k.randn([64, 32], { generator: g }), y: k.randint(0, 4, [64], { generator: g }) };
}

/** `steps` plain SGD steps; the weights after them and the fresh pool bytes of each step. */
function train(model: nn.Sequential, steps: number): { weights: number[][]; fresh: number[] } {
  const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const { x, y } = data(3);
  const fresh: number[] = [];
  for (let i = 0; i < steps; i++) {
    const before = hostStats.freshBytes;
    opt.zeroGrad();
    nn.F.crossEntropy(model.forward(x), y).backward();
    opt.step();
    fresh.push(hostStats.freshBytes - before);
  }
  return { weights: model.parameters().map((p) => Array.from(p.readSync())), fresh };
}

describe('eager memory handed back before the collector runs', () => {
  const activations: [string, [Activation, Activation]][] = [
    ['ReLU', [nn.ReLU, nn.ReLU]],
    ['Tanh, Sigmoid', [nn.Tanh, nn.Sigmoid]],
    ['GELU, SiLU', [nn.GELU, nn.SiLU]],
  ];
  it.each(['wasm', 'js'].flatMap((b) => activations.map(([n, acts]) => [b, n, acts] as const)))(
    'on %s with %s: a plain loop takes no fresh pooled memory once warm, same weights',
    (name, _names, acts) => {
      k.setBackend(name);
      try {
        const kept = train(mlp(KeepingSequential, 1, acts), 6);
        const handed = train(mlp(nn.Sequential, 1, acts), 6);
        expect(handed.weights).toEqual(kept.weights);
        // Without it every step takes fresh buffers for its activations, masks and weight gradients.
        for (const f of kept.fresh.slice(2)) expect(f).toBeGreaterThanOrEqual(500_000);
        // Warm (steps 3–6): small arrays only — 64 KB slabs and the last layer's 8 KB weight gradient
        // (arrays under 64 KB are not pooled).
        for (const f of handed.fresh.slice(2)) expect(f).toBeLessThanOrEqual(160_000);
      } finally {
        k.setBackend('wasm');
      }
    },
  );

  it('keeps what user code can reach: the output, hooked activations, read gradients', () => {
    const model = mlp(nn.Sequential, 2);
    const { x, y } = data(4);
    const seen: Tensor[] = [];
    const hook = model.at(1).registerForwardHook((_m, _in, out) => {
      seen.push(out);
    });
    const out = model.forward(x);
    nn.F.crossEntropy(out, y).backward();
    // A hook makes the Sequential keep everything; the hooked ReLU output is still readable.
    expect(seen[0].readSync().length).toBe(64 * 512);
    hook.remove();

    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    opt.zeroGrad();
    const out2 = model.forward(x);
    nn.F.crossEntropy(out2, y).backward();
    const w = model.parameters()[0];
    const g = w.grad as Tensor; // read by user code: zeroGrad must leave it alone
    const before = Array.from(g.readSync());
    opt.zeroGrad();
    expect(w.grad).toBeNull();
    expect(Array.from(g.readSync())).toEqual(before);
    expect(out2.readSync().length).toBe(64 * 4);
  });

  it('hands back the activations at backward and unread gradients at zeroGrad', () => {
    const model = mlp(nn.Sequential, 5);
    const { x, y } = data(6);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const recycled = hostStats.recycled;
    nn.F.crossEntropy(model.forward(x), y).backward();
    // Activations and masks between the layers (the gradients of the sweep are counted too).
    expect(hostStats.recycled - recycled).toBeGreaterThanOrEqual(5);
    const w = model.parameters()[2]; // the 512 × 512 weight: a 1 MB gradient
    const mid = hostStats.recycled;
    opt.zeroGrad();
    expect(hostStats.recycled - mid).toBeGreaterThanOrEqual(1);
    expect(w.grad).toBeNull();
  });

  it('clipping hands back the gradients it replaces, unless they were read', () => {
    const model = mlp(nn.Sequential, 9);
    const { x, y } = data(10);
    nn.F.crossEntropy(model.forward(x), y).backward();
    const [w0, , w2] = model.parameters();
    const held = w0.grad as Tensor; // read: clipping must leave this one's memory alone
    const heldValues = Array.from(held.readSync());
    const recycled = hostStats.recycled;
    const norm = optim.clipGradNorm_(model.parameters(), 1e-3);
    expect(norm).toBeGreaterThan(1e-3);
    // w2's 1 MB gradient was replaced unread: its memory is back in the pool.
    expect(hostStats.recycled - recycled).toBeGreaterThanOrEqual(1);
    expect(Array.from(held.readSync())).toEqual(heldValues);
    const clipped = Array.from((w0.grad as Tensor).readSync());
    const scale = clipped[0] / heldValues[0];
    expect(scale).toBeLessThan(1);
    expect(
      clipped.every((v, i) => Math.abs(v - heldValues[i] * scale) <= 1e-6 * Math.abs(heldValues[i]) + 1e-12),
    ).toBe(true);
    expect((w2.grad as Tensor).readSync().length).toBe(512 * 512);
  });

  it('a gradient two leaves share, a retained graph and a no-grad forward stay correct', () => {
    // add's backward hands the same gradient to both operands: neither leaf owns it.
    const a = k.ones([200, 100], { requiresGrad: true });
    const b = k.ones([200, 100], { requiresGrad: true });
    k.add(a, b).sum().backward();
    new optim.SGD([a], { lr: 1 }).zeroGrad();
    expect(Array.from((b.grad as Tensor).readSync().subarray(0, 3))).toEqual([1, 1, 1]);
    // A gradient handed from one leaf to another by user code stays the first leaf's.
    const c = k.ones([200, 100], { requiresGrad: true });
    const d = k.ones([200, 100], { requiresGrad: true });
    k.mul(c, 3).sum().backward();
    const cg = c.grad as Tensor;
    d.grad = cg;
    new optim.SGD([d], { lr: 1 }).zeroGrad();
    expect(Array.from(cg.readSync().subarray(0, 3))).toEqual([3, 3, 3]);

    // Two backward sweeps through one graph: the first keeps the saved activations.
    const model = mlp(nn.Sequential, 7);
    const { x, y } = data(8);
    const loss = nn.F.crossEntropy(model.forward(x), y);
    loss.backward(undefined, { retainGraph: true });
    const first = Array.from((model.parameters()[0].grad as Tensor).readSync());
    loss.backward();
    const twice = Array.from((model.parameters()[0].grad as Tensor).readSync());
    expect(twice.map((v, i) => v - 2 * first[i]).every((d) => Math.abs(d) < 1e-5)).toBe(true);

    // Evaluation without a graph: the activations go back at once, the output stays.
    model.eval();
    const out = k.noGrad(() => model.forward(x));
    expect(out.readSync().every(Number.isFinite)).toBe(true);
  });
});
