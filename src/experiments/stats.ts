/** Mean and sample standard deviation: the spread over seeds that the experiments report. */

/** The mean of `xs` (0 for none). */
export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

/** The sample standard deviation of `xs` (n − 1 in the denominator; 0 for fewer than two). */
export const sd = (xs: readonly number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(xs.length - 1, 1));
};

/** "mean ± sd" with `digits` decimals for both (a spread of 0.0009 stays readable beside its mean). */
export const meanSd = (xs: readonly number[], digits = 4) =>
  `${mean(xs).toFixed(digits)} ± ${sd(xs).toFixed(digits)}`;
