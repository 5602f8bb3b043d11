// The eager kernels' scratch region (backend/wasm/arena.ts): when reserving it grows a non-shared
// memory — which detaches every array over the old buffer — the operands of the call that live in
// that memory (a compiled plan's parameters) come back as views of the same bytes.
import { describe, expect, it } from 'vitest';
import { Arena } from '../src/backend/wasm/arena.js';
import { WasmHeap } from '../src/backend/wasm/heap.js';

describe('wasm scratch arena', () => {
  it('keeps operands in a growing non-shared memory readable (reserveFor)', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 64 });
    const heap = new WasmHeap(memory, 0);
    const at = heap.alloc(4096);
    const inMemory = new Float32Array(memory.buffer, at, 1024);
    inMemory.forEach((_, i, a) => {
      a[i] = i + 0.5;
    });
    const onHost = Float32Array.from([1, 2, 3]);
    const arena = new Arena(heap);
    const ops = [inMemory, onHost];
    const base = arena.reserveFor(1 << 20, ops);
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(base + (1 << 20));
    // The old view is detached (this is the hazard); the kept one reads the same bytes.
    expect(inMemory.length).toBe(0);
    expect(ops[0].length).toBe(1024);
    expect(ops[0].byteOffset).toBe(at);
    expect(ops[0][1023]).toBe(1023.5);
    expect(ops[1]).toBe(onHost);
  });

  it('leaves the arrays alone when the memory does not grow', () => {
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 64 });
    const arena = new Arena(new WasmHeap(memory, 0));
    const a = new Float32Array(memory.buffer, 0, 4);
    const ops = [a];
    arena.reserveFor(1024, ops);
    expect(ops[0]).toBe(a);
  });
});
