import { Faker, base, en, generateMersenne53Randomizer, type Randomizer } from '@faker-js/faker';

/**
 * Independent random streams. Each concern (names, structure, groups, one
 * delta) draws from its own stream seeded with `[seed, stream, …]`, so a change
 * to the group parameters leaves the people untouched, and a delta of
 * generation 2 does not depend on how many draws generation 1 made.
 */
export const STREAM = {
  people: 1,
  structure: 2,
  groups: 3,
  delta: 4,
} as const;

/** A seeded faker instance plus the few numeric draws the generator needs often. */
export class RandomStream {
  readonly faker: Faker;
  private readonly randomizer: Randomizer;

  constructor(seed: readonly number[]) {
    this.randomizer = generateMersenne53Randomizer();
    this.faker = new Faker({ locale: [en, base], randomizer: this.randomizer });
    this.faker.seed([...seed]);
  }

  /** A float in [0, 1). */
  next(): number {
    return this.randomizer.next();
  }

  /** An integer in [0, bound). */
  int(bound: number): number {
    return Math.floor(this.randomizer.next() * bound);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(probability: number): boolean {
    return probability > 0 && this.randomizer.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Fisher–Yates on a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
  }

  /** `count` distinct integers of [0, bound), in draw order (Floyd's algorithm: O(count), not O(bound)). */
  sample(bound: number, count: number): number[] {
    const chosen = new Set<number>();
    for (let j = bound - count; j < bound; j++) {
      const t = this.int(j + 1);
      chosen.add(chosen.has(t) ? j : t);
    }
    return [...chosen];
  }
}

/**
 * Picks an index with probability proportional to its weight, by binary search
 * over cumulative weights: O(log n) per draw for the thousands of draws a
 * delta or a group fill makes.
 */
export class WeightedPicker {
  private readonly cumulative: Float64Array;

  constructor(weights: readonly number[]) {
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    weights.forEach((weight, index) => {
      sum += Math.max(0, weight);
      this.cumulative[index] = sum;
    });
  }

  get total(): number {
    return this.cumulative.length === 0 ? 0 : this.cumulative[this.cumulative.length - 1];
  }

  pick(random: RandomStream): number {
    const target = random.next() * this.total;
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.cumulative[middle] > target) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}

/**
 * Splits `total` into `count` Zipf-distributed sizes, largest first: size of
 * rank k ∝ 1/k^exponent, every size at least `minimum` while the total allows,
 * rounded by largest remainder so the sizes add up to `total` exactly.
 */
export function zipfSizes(total: number, count: number, exponent: number, minimum = 1): number[] {
  if (count <= 0) return [];
  const floor = Math.min(minimum, Math.floor(total / count));
  const rest = total - floor * count;
  const weights = Array.from({ length: count }, (_, rank) => 1 / Math.pow(rank + 1, exponent));
  const weightSum = weights.reduce((sum, weight) => sum + weight, 0);
  const shares = weights.map((weight) => (rest * weight) / weightSum);
  const sizes = shares.map((share) => Math.floor(share));
  let missing = rest - sizes.reduce((sum, size) => sum + size, 0);
  const byRemainder = shares.map((share, rank) => ({ rank, remainder: share - Math.floor(share) })).sort((a, b) => b.remainder - a.remainder || a.rank - b.rank);
  for (const { rank } of byRemainder) {
    if (missing <= 0) break;
    sizes[rank]++;
    missing--;
  }
  return sizes.map((size) => size + floor);
}
