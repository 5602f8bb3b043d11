// What compiled steps leave behind once nothing holds them: a sweep worker trains trial after trial
// in one process, so a step that becomes unreachable must give back its plan's arena in the kernels'
// memory (wasm, and native's plans, which use the same memory), and the eager temporaries of its
// trace must not stay in the host pool's free lists. Each cycle makes a model and a compiled step,
// runs it and drops them; after the first cycles the memory in use must stop growing.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { backendByName, withBackend } from '../src/backend/registry.js';
import type { Backend } from '../src/backend/types.js';
import type { WasmHeap } from '../src/backend/wasm/heap.js';
import * as k from '../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects twice with event-loop turns between, so finalizers run. */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One run's model and compiled training step, used for a few steps and dropped. */
function cycle(seed: number): void {
  const g = new k.Rng(seed);
  const model = new k.nn.Sequential(
    new k.nn.Linear(300, 200, { generator: g }),
    new k.nn.ReLU(),
    new k.nn.Linear(200, 10, { generator: g }),
  );
  const opt = new k.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const step = k.compile((x: k.Tensor, y: k.Tensor) => {
    opt.zeroGrad();
    const l = k.nn.F.crossEntropy(model.forward(x), y);
    l.backward();
    opt.step();
    return l;
  });
  const x = k.randn([128, 300], { generator: g });
  const y = k.tensor(
    Int32Array.from({ length: 128 }, (_, i) => i % 10),
    { dtype: 'int32' },
  );
  for (let i = 0; i < 3; i++) step(x, y).item();
}

const cases = ['wasm', 'native'].flatMap((name) => {
  const b = backendByName(name) as (Backend & { gemm?: { arena: { heap: WasmHeap } } }) | undefined;
  return b?.gemm ? [[name, b, b.gemm.arena.heap] as const] : [];
});

describe.each(cases)('compiled steps dropped on %s', (_name, backend, heap) => {
  it('give back their arenas and keep no trace temporaries in the pool', async () => {
    await withBackend(backend, async () => {
      const used: number[] = [];
      const buffers: number[] = [];
      for (let c = 0; c < 6; c++) {
        cycle(c);
        await collect();
        used.push(heap.used);
        buffers.push(process.memoryUsage().arrayBuffers);
      }
      // The first cycles may grow the eager scratch; from then on nothing may accumulate (each
      // cycle leaked ~1 MB of arena, and its trace's temporaries stayed in the pool, before).
      expect(used[5]).toBe(used[2]);
      expect(buffers[5] - buffers[2]).toBeLessThan(256 * 1024);
    });
  });
});
