import { fitLogLog, median, minimum, percentile } from './statistics';

describe('statistics of measured runs', () => {
  it('takes the median of odd and even counts and the minimum', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(minimum([5, 1, 3])).toBe(1);
  });

  it('interpolates percentiles between ranks', () => {
    const values = Array.from({ length: 101 }, (_, i) => i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([1, 2], 50)).toBe(1.5);
    expect(percentile([7], 99)).toBe(7);
  });

  it('fits the exponent of a power law in log-log space', () => {
    const linear = [1_000, 10_000, 100_000].map((x) => ({ x, y: 0.002 * x }));
    expect(fitLogLog(linear).slope).toBeCloseTo(1, 10);
    expect(fitLogLog(linear).coefficient).toBeCloseTo(0.002, 10);
    const flat = [10_000, 30_000, 100_000].map((x) => ({ x, y: 4.2 }));
    expect(fitLogLog(flat).slope).toBeCloseTo(0, 10);
    const sqrt = [1, 4, 16, 64].map((x) => ({ x, y: Math.sqrt(x) }));
    expect(fitLogLog(sqrt).slope).toBeCloseTo(0.5, 10);
    expect(fitLogLog(sqrt).r2).toBeCloseTo(1, 10);
  });

  it('needs two usable points and leaves out those without a logarithm', () => {
    expect(fitLogLog([{ x: 10, y: 1 }]).slope).toBeNaN();
    expect(fitLogLog([{ x: 0, y: 1 }, { x: 10, y: 0 }, { x: 100, y: 1 }]).points).toBe(1);
  });
});
