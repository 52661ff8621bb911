import { InitialSchema1767225600000 } from './1767225600000-initial-schema';
import { RunRecoveries1772323200000 } from './1772323200000-run-recoveries';

/** Every migration, oldest first. */
export const ALL_MIGRATIONS = [InitialSchema1767225600000, RunRecoveries1772323200000];
