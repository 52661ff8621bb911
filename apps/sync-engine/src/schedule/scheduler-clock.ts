/** The time the scheduler fires by; tests move it by hand instead of waiting. */
export abstract class SchedulerClock {
  abstract now(): Date;
}

export const systemClock: SchedulerClock = { now: () => new Date() };
