/** Mean and sample standard deviation: the spread over seeds that the experiments report. */

/** The mean of `xs` (0 for none). */
export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

/** The sample standard deviation of `xs` (n − 1 in the denominator; 0 for fewer than two). */
export const sd = (xs: readonly number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(xs.length - 1, 1));
};
