import { InitialSchema1767225600000 } from './1767225600000-initial-schema';
import { RunRecoveries1772323200000 } from './1772323200000-run-recoveries';
import { ExportQueueDelivery1772409600000 } from './1772409600000-export-queue-delivery';
import { RunChainsAndScheduleStates1772496000000 } from './1772496000000-run-chains-and-schedule-states';
import { RelayWorkStreaming1772582400000 } from './1772582400000-relay-work-streaming';
import { RelayItemParts1772668800000 } from './1772668800000-relay-item-parts';

/** Every migration, oldest first. */
export const ALL_MIGRATIONS = [InitialSchema1767225600000, RunRecoveries1772323200000, ExportQueueDelivery1772409600000, RunChainsAndScheduleStates1772496000000, RelayWorkStreaming1772582400000, RelayItemParts1772668800000];
