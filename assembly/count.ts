// The accuracy count of a step in one pass over the logits (src/backend/wasm/countCorrect.ts finds
// the chain argmax → eq → cast → sum in a plan): how many rows' argmax equals their label. The argmax
// is the js kernel's: the first largest value, and a NaN wins at its position.

/**
 * Over logits x (rows × cols float32, row-major) and int32 labels at t (stride ts, elements): the
 * number of rows whose argmax equals the label.
 */
export function countCorrect(x: usize, rows: i32, cols: i32, t: usize, ts: i32): i32 {
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const base = x + (<usize>(r * cols) << 2);
    let best = load<f32>(base);
    let bi = 0;
    if (best == best) {
      // Branch-free over the row (which column wins is data, not a pattern), but for a NaN.
      for (let j = 1; j < cols; j++) {
        const v = load<f32>(base + (<usize>j << 2));
        if (v != v) {
          bi = j;
          break;
        }
        const more = v > best;
        best = select<f32>(v, best, more);
        bi = select<i32>(j, bi, more);
      }
    }
    count += i32(bi == load<i32>(t + (<usize>(r * ts) << 2)));
  }
  return count;
}
