/**
 * Rows and columns of images moved per image, on the backend and without a host loop: output row i
 * of image b is row i − dy_b of that image (the zero row when that is outside it) seen through
 * column map c_b — one of a few fixed maps (a shift, a mirror), each a 0/1 matrix. One matrix
 * product gives every row of the batch through every map (the rows, with a zero row appended, times
 * the maps side by side: [B·P·H + 1, W] · [W, m·W]), and one `indexSelect` of whole rows picks each
 * output row from that table. A product with a 0/1 matrix that has at most one 1 per column copies
 * finite values exactly (x·1 plus zeros); a non-finite pixel would spread NaN along its row.
 */
import { add, ge, lt, mul, sub, where } from '../../ops/elementwise.js';
import { indexSelect } from '../../ops/indexing.js';
import { matmul } from '../../ops/matmul.js';
import { concat, reshape } from '../../ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { constant, firstRows, type ImageLayout, rowNumbers } from './image.js';

/** Column maps by name: `maps[c](j)` is the source column of output column j under map c, or −1 (zero). */
export interface ColumnMaps {
  /** Names the maps (with the width) for the constant cache. */
  key: string;
  maps: readonly ((j: number) => number)[];
}

/**
 * `x` with each image's rows shifted down by `dy` ([B,1,1] int32, or null: none) and its columns
 * through map `choice` ([B,1,1] int32 indices into `maps`), zero where nothing maps (see the header).
 */
export function remapImages(
  x: Tensor,
  l: ImageLayout,
  dy: Tensor | null,
  choice: Tensor,
  columns: ColumnMaps,
): Tensor {
  const { batch: b, planes: p, height: h, width: w } = l;
  const m = columns.maps.length;
  const n = b * p * h;
  const zeroRow = constant('zero row', [1, w], x.dtype, () => 0);
  const rows = concat([reshape(x, [n, w]), zeroRow], 0); // [n+1, W]
  // maps side by side: entry (s, c·W + j) is 1 when map c takes output column j from column s.
  const matrix = constant(`column maps ${columns.key}`, [w, m * w], x.dtype, (e) => {
    const s = Math.floor(e / (m * w));
    const cj = e % (m * w);
    return columns.maps[Math.floor(cj / w)](cj % w) === s ? 1 : 0;
  });
  const table = reshape(matmul(rows, matrix), [(n + 1) * m, w]); // row r·m + c: batch row r through map c
  let source = rowNumbers(h); // [1,1,H]: the source row of each output row, within its image
  let inside: Tensor | null = null;
  if (dy) {
    source = sub(source, dy); // [B,1,H]
    inside = mul(ge(source, 0), lt(source, h));
  }
  const row = add(firstRows(l), source); // [B,P,H]: the batch row each output row comes from
  let index = add(mul(row, m), choice); // its row of the table
  if (inside) index = where(inside, index, n * m); // the zero row's block
  return reshape(indexSelect(table, 0, reshape(index, [n])), x.shape);
}
