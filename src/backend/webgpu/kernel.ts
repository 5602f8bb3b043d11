/**
 * The pieces a kernel builder of the webgpu backend assembles one kernel call from, on top of
 * wgsl.ts's `Slots`, `Params` and `call`: `window` puts an operand's element offset and strides into
 * the parameter block, `lanes` opens a 1-D kernel (preludes, entry point, linear index `i`, bound
 * check) and `cover` dispatches it, `stridedOffset` walks a row-major index to an element offset.
 * Each gives the builder parameter indices, WGSL text or workgroup counts.
 */
import { at, ENTRY, grid, LINEAR, type Operand, type Params } from './wgsl.js';

/**
 * The parameters of an operand's window: its element offset, then its first `rank` strides (0
 * past its own rank); returns their indices in that order.
 */
export function window(P: Params, o: Operand, rank: number, what?: string): number[] {
  const base = P.u(at(o), what);
  return [base, ...Array.from({ length: rank }, (_, d) => P.u(o.strides[d] ?? 0, what))];
}

/**
 * WGSL opening a 1-D kernel of workgroup size `wg` whose invocation `i` runs while i < p(count):
 * the preludes (helper functions), the entry point, `i`, and the bound check.
 */
export function lanes(wg: number, count: number, ...preludes: readonly string[]): string {
  return `${preludes.join('\n')}
${ENTRY(wg)}
  ${LINEAR(wg)}
  if (i >= p(${count}u)) { return; }`;
}

/** The workgroups of size `wg` covering `n` invocations (folded past the per-dimension limit). */
export function cover(n: number, wg: number): [number, number, number] {
  return grid(Math.ceil(n / wg));
}

/**
 * WGSL declaring `name`, the element offset (i32) of row-major index `index` over the dims and
 * strides at params `dims`, `strides`, from the base at param `base` (uses the var `r`).
 */
export function stridedOffset(
  name: string,
  index: string,
  base: number,
  dims: readonly number[],
  strides: readonly number[],
): string {
  const lines = [`var r = ${index};`, `var ${name} = pi(${base}u);`];
  for (let d = dims.length - 1; d >= 0; d--)
    lines.push(
      d > 0
        ? `{ let q = i32(r % p(${dims[d]}u)); r = r / p(${dims[d]}u); ${name} += q * pi(${strides[d]}u); }`
        : `${name} += i32(r) * pi(${strides[d]}u);`,
    );
  return lines.join('\n  ');
}
