import type { ConnectorDefinition, FinishedRunStatus, LeaseGrant, RunView } from '@identitymesh/persistence';

/** Why a running run was told to stop before its end. */
export type StopReason = { kind: 'shutdown' } | { kind: 'lease-lost'; reason: string };

/** Everything a profile's runner gets for one run. */
export interface RunContext {
  run: RunView;
  connector: ConnectorDefinition;
  /** The connector's lease; every batch transaction proves it still holds it. */
  lease: LeaseGrant;
  engineInstanceId: string;
  /** Aborted (with a StopReason) on shutdown or when the lease is lost: stop after the batch in hand. */
  signal: AbortSignal;
}

/** How a run ended, for the executor to record. */
export type RunOutcome =
  /** The run is over: the executor writes the status and message. */
  | { kind: 'finished'; status: FinishedRunStatus; message: string }
  /** Stopped early with its committed batches kept: it goes back to the queue and resumes after them. */
  | { kind: 'interrupted'; message: string }
  /** Another engine holds the connector now: this engine writes nothing more, not even the run's status. */
  | { kind: 'lease-lost'; message: string };

/** Runs one profile (full import, delta import, …). */
export interface ProfileRunner {
  run(context: RunContext): Promise<RunOutcome>;
}

/** The stop reason a signal was aborted with. */
export function stopReasonOf(signal: AbortSignal): StopReason {
  const reason = signal.reason as StopReason | undefined;
  return reason && typeof reason === 'object' && 'kind' in reason ? reason : { kind: 'shutdown' };
}
