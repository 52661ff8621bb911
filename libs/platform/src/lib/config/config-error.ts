import { DomainError } from '@identitymesh/domain';

/** One setting that failed validation, by its environment variable name. */
export interface SettingProblem {
  setting: string;
  problem: string;
}

/** Raised before anything starts when the configuration can't be used. */
export class ConfigError extends DomainError {
  constructor(readonly problems: SettingProblem[]) {
    super(
      'CONFIG_INVALID',
      `invalid configuration: ${problems.map((p) => `${p.setting}: ${p.problem}`).join('; ')}`,
      { problems },
    );
  }
}
