import { RandomStream, WeightedPicker, zipfSizes } from './random';

describe('zipfSizes', () => {
  it('adds up exactly, largest first, each at least the minimum', () => {
    for (const [total, count, exponent] of [
      [100_000, 158, 1],
      [300, 7, 2],
      [10, 10, 1],
      [5, 8, 1],
      [1000, 1, 1],
    ]) {
      const sizes = zipfSizes(total, count, exponent);
      expect(sizes).toHaveLength(count);
      expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(total);
      for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeLessThanOrEqual(sizes[i - 1]);
      if (total >= count) expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
    }
  });

  it('makes equal sizes with exponent 0', () => {
    expect(zipfSizes(100, 4, 0)).toEqual([25, 25, 25, 25]);
  });
});

describe('RandomStream', () => {
  it('repeats its draws for the same seed path and differs for another', () => {
    const draws = (seed: number[]): number[] => {
      const random = new RandomStream(seed);
      return Array.from({ length: 5 }, () => random.int(1_000_000));
    };
    expect(draws([1, 2])).toEqual(draws([1, 2]));
    expect(draws([1, 2])).not.toEqual(draws([1, 3]));
  });

  it('samples distinct values in range', () => {
    const random = new RandomStream([9]);
    const sample = random.sample(50, 50);
    expect(new Set(sample).size).toBe(50);
    expect(Math.max(...sample)).toBe(49);
  });

  it('picks by weight', () => {
    const random = new RandomStream([4]);
    const picker = new WeightedPicker([0, 1, 3]);
    const counts = [0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[picker.pick(random)]++;
    expect(counts[0]).toBe(0);
    expect(counts[2] / counts[1]).toBeGreaterThan(2.5);
    expect(counts[2] / counts[1]).toBeLessThan(3.5);
  });
});
