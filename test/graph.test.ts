/**
 * The graph made visible: DOT and Mermaid text show ops, shapes, leaves and saved tensors;
 * savedBytes shows that training (recording a graph) keeps memory that prediction does not.
 */
import { describe, expect, it } from 'vitest';
import * as k from '../src/index.js';

function mlp(x: k.Tensor, w1: k.Tensor, w2: k.Tensor): k.Tensor {
  return k.matmul(k.relu(k.matmul(x, w1)), w2);
}

describe('graph export', () => {
  const x = k.randn([8, 4]);
  x.name = 'x';
  const w1 = k.randn([4, 16], { requiresGrad: true });
  w1.name = 'W1';
  const w2 = k.randn([16, 3], { requiresGrad: true });

  it('toDot draws ops, shapes, leaves and saved tensors', () => {
    const dot = k.toDot(k.sum(mlp(x, w1, w2)));
    expect(dot.startsWith('digraph keel {')).toBe(true);
    expect(dot).toContain('matmul → [8,16]');
    expect(dot).toContain('relu → [8,16]');
    expect(dot).toContain('matmul → [8,3]');
    expect(dot).toContain('sum → []');
    expect(dot).toContain('W1 [4,16] float32');
    expect(dot).toContain('saved [8,16] float32 (512 B)');
    expect(dot).toContain('style=dashed');
    expect(dot.trim().endsWith('}')).toBe(true);
  });

  it('toMermaid draws the same graph', () => {
    const m = k.toMermaid(k.sum(mlp(x, w1, w2)));
    expect(m.startsWith('flowchart BT')).toBe(true);
    expect(m).toContain('"relu → [8,16]"');
    expect(m).toContain('-.->');
    expect((m.match(/\["matmul/g) ?? []).length).toBe(2);
  });

  it('training keeps more memory than prediction', () => {
    const train = mlp(x, w1, w2);
    const predict = k.noGrad(() => mlp(x, w1, w2));
    const stats = k.graphStats(train);
    // saved: x (8·4·4 B), W1 (4·16·4), relu output (8·16·4, saved by relu and by the second matmul), W2 (16·3·4)
    expect(stats.savedBytes).toBe(8 * 4 * 4 + 4 * 16 * 4 + 8 * 16 * 4 + 16 * 3 * 4);
    // beyond the parameters: the input x and the relu output
    expect(stats.activationBytes).toBe(8 * 4 * 4 + 8 * 16 * 4);
    expect(stats.nodes).toBe(3);
    expect(k.savedBytes(predict)).toBe(0);
  });

  it('saved memory grows with the batch', () => {
    const small = k.graphStats(mlp(k.randn([8, 4]), w1, w2)).activationBytes;
    const big = k.graphStats(mlp(k.randn([64, 4]), w1, w2)).activationBytes;
    // (parameters are not counted, so the rest scales exactly with the batch)
    expect(big).toBe(8 * small);
  });

  it('backward releases saved tensors', () => {
    const y = k.sum(mlp(x, w1, w2));
    expect(k.savedBytes(y)).toBeGreaterThan(0);
    y.backward();
    expect(k.savedBytes(y)).toBe(0);
  });
});
