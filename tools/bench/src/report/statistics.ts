/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function minimum(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.min(...values);
}

export function maximum(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.max(...values);
}

/**
 * The p-th percentile (0–100) by linear interpolation between the closest
 * ranks, the definition spreadsheets and numpy use by default.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (Math.min(Math.max(p, 0), 100) / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

export interface PowerLawFit {
  /** The exponent b of y = a·x^b: 0 means y does not grow with x, 1 means it grows in proportion. */
  slope: number;
  /** a of y = a·x^b. */
  coefficient: number;
  /** How well the line fits in log-log space (1: perfectly); NaN when y is constant. */
  r2: number;
  points: number;
}

/**
 * Least-squares line through (log x, log y): how a cost scales with a size.
 * A delta whose cost does not depend on the directory's size has a slope near
 * 0 against N; one that is linear in the changes has a slope near 1 against
 * them. Points with a non-positive x or y have no logarithm and are left out.
 */
export function fitLogLog(points: ReadonlyArray<{ x: number; y: number }>): PowerLawFit {
  const usable = points.filter((p) => p.x > 0 && p.y > 0 && Number.isFinite(p.x) && Number.isFinite(p.y));
  const n = usable.length;
  if (n < 2) return { slope: Number.NaN, coefficient: Number.NaN, r2: Number.NaN, points: n };
  const xs = usable.map((p) => Math.log(p.x));
  const ys = usable.map((p) => Math.log(p.y));
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - meanX) ** 2;
    sxy += (xs[i] - meanX) * (ys[i] - meanY);
    syy += (ys[i] - meanY) ** 2;
  }
  if (sxx === 0) return { slope: Number.NaN, coefficient: Number.NaN, r2: Number.NaN, points: n };
  const slope = sxy / sxx;
  const intercept = meanY - slope * meanX;
  const r2 = syy === 0 ? Number.NaN : (sxy * sxy) / (sxx * syy);
  return { slope, coefficient: Math.exp(intercept), r2, points: n };
}
