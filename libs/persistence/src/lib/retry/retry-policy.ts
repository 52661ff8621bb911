import { isTransientDatabaseError } from './transient-errors';

export interface RetryOptions {
  /**
   * Attempts in all, the first included.
   * @default 5
   */
  attempts?: number;
  /**
   * Delay before the second attempt, in ms; it doubles each time.
   * @default 500
   */
  initialDelayMs?: number;
  /**
   * Longest wait between two attempts, in ms.
   * @default 30000
   */
  maxDelayMs?: number;
  /** Called before each wait, for logs and metrics. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown; operation: string }) => void;
  /** Which errors are worth another attempt. @default isTransientDatabaseError */
  isRetryable?: (error: unknown) => boolean;
  /** Test seam for the wait. */
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY = { attempts: 5, initialDelayMs: 500, maxDelayMs: 30_000 } as const;

/** Exponential backoff with full jitter (AWS style), capped. */
export function backoffDelay(attempt: number, initialDelayMs: number, maxDelayMs: number, random = Math.random): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Runs idempotent database work, retrying transient faults (lost connection,
 * deadlock victim, server restarting). Only for work that is safe to repeat:
 * a whole transaction, or a statement whose effect doesn't depend on having
 * run before. A non-transient error, or the last failed attempt, is thrown
 * unchanged.
 */
export async function withTransientRetry<T>(operation: string, work: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? DEFAULT_RETRY.attempts;
  const initialDelayMs = options.initialDelayMs ?? DEFAULT_RETRY.initialDelayMs;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  const isRetryable = options.isRetryable ?? isTransientDatabaseError;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isRetryable(error)) throw error;
      const delayMs = backoffDelay(attempt, initialDelayMs, maxDelayMs);
      options.onRetry?.({ attempt, delayMs, error, operation });
      await sleep(delayMs);
    }
  }
}
