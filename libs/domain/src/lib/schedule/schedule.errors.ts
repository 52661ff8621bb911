import { DomainError } from '../errors/domain-error';

/** One thing wrong with a schedule: `field` names it (`cron`, `profiles[2]`, `` for the whole value). */
export interface ScheduleProblem {
  field: string;
  problem: string;
}

/** A connector schedule that cannot be saved or run; lists every problem, the first one's field in `field`. */
export class ScheduleInvalidError extends DomainError {
  readonly field: string;

  constructor(readonly problems: readonly ScheduleProblem[]) {
    super('SCHEDULE_INVALID', `schedule: ${problems.map((p) => (p.field ? `${p.field} ${p.problem}` : p.problem)).join('; ')}`, {
      field: problems[0]?.field ?? '',
      problems: problems.map((p) => ({ ...p })),
    });
    this.field = problems[0]?.field ?? '';
  }
}
