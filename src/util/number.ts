/**
 * How keel writes a number for a person — in reports, tables, log lines, error messages and the
 * lab — so that the same value reads the same everywhere:
 * - missing (null or undefined): `—`; NaN and ±Infinity: `NaN`, `Infinity`, `-Infinity`;
 * - very large or very small magnitudes (|x| ≥ 1e5, or 0 < |x| < 1e-3): exponential notation with
 *   three significant digits (`1.23e+7`, `4.50e-5`);
 * - otherwise `digits` decimals (`'fixed'`, the default: a column of numbers lines up), or `digits`
 *   significant digits without trailing zeros (`'significant'`: prose, `0.1`, `2.303`, `1250`).
 */

/** How `formatNumber` writes a number in the plain range. */
export type NumberStyle = 'fixed' | 'significant';

/** Formats `x` for a person (see the file's header for the rules). */
export function formatNumber(x: number | null | undefined, digits = 4, style: NumberStyle = 'fixed'): string {
  if (x === null || x === undefined) return '—';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return x.toExponential(2);
  return style === 'fixed' ? x.toFixed(digits) : String(Number(x.toPrecision(Math.max(digits, 1))));
}
