/**
 * A run's metrics as JSON lines (runs/<name>/metrics.jsonl: one object per line, appended as each
 * epoch ends). JSON has no literal for NaN or ±Infinity, and a diverged run is made of them: they are
 * written as the strings "NaN", "Infinity" and "-Infinity" and read back as numbers. A torn last line
 * (the process died while appending it) is skipped when reading.
 */

/** JSON text of a metrics row, keeping NaN and ±Infinity as strings. */
export function metricsLine(row: Record<string, unknown>): string {
  return JSON.stringify(row, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

const NON_FINITE = new Map<unknown, number>([
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
]);

/** Parses metrics.jsonl text; a torn last line (a crash mid-write) is skipped. */
export function parseMetrics(text: string): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      rows.push(JSON.parse(line, (_k, v) => NON_FINITE.get(v) ?? v));
    } catch {
      // a partial line: the process died while appending it
    }
  }
  return rows;
}
