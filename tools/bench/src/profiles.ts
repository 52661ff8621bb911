import type { BenchArguments, WorkloadId } from './cli/bench-arguments';

/** Sizes and repetitions of one benchmark. */
export interface BenchProfile {
  name: 'quick' | 'full';
  seed: number;
  warmups: number;
  runs: number;
  /** W1 (full import) and W3 (full sync): one feed of people and groups. */
  fullCycle: { people: number; groups: number };
  /**
   * W2 (delta import) and W3d (delta sync): deltas of `fixedChanges` person changes for
   * each head count of `people`, and at `fixedPeople` deltas of each of `changes`; and, on
   * the largest population, one member change of a group of `largeGroupMembers`.
   */
  series: { people: number[]; fixedChanges: number; fixedPeople: number; changes: number[]; largeGroupMembers: number; runs: number };
  /** W4: adds of `people` people and `groups` groups (one of `largeGroupMembers` members), then a modify of each person. */
  export: { people: number; groups: number; largeGroupMembers: number };
  /** W5: each relay round trip, and its limit, with each of `inFlight` operations outstanding, for `seconds` per run. */
  relayRoundTrip: { inFlight: number[]; seconds: number };
  /** W6: each route under load for `seconds`, over `connections`, `runs` times after the warm-up. */
  adminReads: { seconds: number; connections: number; runs: number };
  /** Workloads measured on the first dialect only: they depend little on the engine's database. */
  firstDialectOnly: WorkloadId[];
}

/**
 * `npm run bench`: small enough for under ten minutes on two cores, still a warm-up and five
 * measured runs of the main workloads (W1, W3, W4). The series use three measured deltas per
 * point (a slope needs points more than repetitions), the Admin API three one-second loads per
 * route, the relay round trips 1.5 s per run and point; the LDAP export, the relay round trips
 * and the Admin API are measured on the first dialect only.
 */
export const QUICK: BenchProfile = {
  name: 'quick',
  seed: 20_260_101,
  warmups: 1,
  runs: 5,
  fullCycle: { people: 4_000, groups: 400 },
  series: { people: [1_000, 2_000, 4_000], fixedChanges: 40, fixedPeople: 4_000, changes: [10, 40, 400], largeGroupMembers: 2_000, runs: 3 },
  export: { people: 200, groups: 10, largeGroupMembers: 60 },
  relayRoundTrip: { inFlight: [1, 16, 256], seconds: 1.5 },
  adminReads: { seconds: 1, connections: 10, runs: 3 },
  firstDialectOnly: ['W4', 'W5', 'W6'],
};

/** `npm run bench -- --full`: the sizes of docs/benchmarks.md and of the scaling series. */
export const FULL: BenchProfile = {
  name: 'full',
  seed: 20_260_101,
  warmups: 1,
  runs: 5,
  fullCycle: { people: 100_000, groups: 10_000 },
  series: { people: [10_000, 30_000, 100_000], fixedChanges: 1_000, fixedPeople: 100_000, changes: [100, 1_000, 10_000], largeGroupMembers: 50_000, runs: 5 },
  export: { people: 10_000, groups: 100, largeGroupMembers: 3_000 },
  relayRoundTrip: { inFlight: [1, 16, 256], seconds: 10 },
  adminReads: { seconds: 10, connections: 10, runs: 5 },
  firstDialectOnly: [],
};

/** The profile the arguments ask for, with their overrides. */
export function selectProfile(args: BenchArguments): BenchProfile {
  const base = args.full ? FULL : QUICK;
  const people = args.people;
  return {
    ...base,
    runs: args.runs ?? base.runs,
    fullCycle: people ? { people, groups: Math.max(1, Math.round(people / 10)) } : base.fullCycle,
    series: {
      ...base.series,
      runs: args.runs ? Math.min(args.runs, base.series.runs) : base.series.runs,
      ...(people
        ? {
            people: [Math.round(people / 4), Math.round(people / 2), people],
            fixedPeople: people,
            fixedChanges: Math.max(10, Math.round(people / 100)),
            changes: [Math.max(1, Math.round(people / 1000)), Math.max(10, Math.round(people / 100)), Math.round(people / 10)],
            largeGroupMembers: Math.round(people / 2),
          }
        : {}),
    },
    export: people ? { people: Math.min(people, base.export.people), groups: base.export.groups, largeGroupMembers: Math.round(Math.min(people, base.export.people) * 0.3) } : base.export,
  };
}
