/**
 * The consumer engine's retry rule for every Kinesis call it makes (ListShards, GetShardIterator,
 * GetRecords, SubscribeToShard): throttling backs off and retries for as long as it lasts, network errors,
 * timeouts and 5xx a bounded number of times within a time budget, anything else is thrown at once.
 */
import { backoffDelay, BackoffOptions, Clock } from "../backoff";
import { classifyError } from "../kinesis-errors";

/** A call kept failing with network errors, timeouts or 5xx beyond the retry bounds: the subscriber stops (exit 1). */
export class GaveUpError extends Error {
  constructor(what: string, attempts: number, failingForMs: number, readonly cause: unknown) {
    const last = cause instanceof Error ? `${cause.name}: ${cause.message.split("\n")[0]}` : String(cause);
    super(`${what} failed ${attempts} times in a row over ${(failingForMs / 1000).toFixed(0)} s; giving up (last error ${last})`);
    this.name = "GaveUpError";
  }
}

/** What the retry loop reads of the run: its bounds, clock, stop, counters and log. */
export interface RetryContext {
  readonly options: { maxTransientRetries?: number; transientBudgetMs?: number; backoff?: BackoffOptions };
  readonly stopping: boolean;
  readonly stopSignal: AbortSignal;
  readonly clock: Clock;
  readonly counts: { throttles: number; retries: number };
  readonly log: (line: string) => void;
}

/**
 * Calls `call` until it succeeds: throttling backs off and retries for as long as it lasts, network
 * errors and 5xx a bounded number of times; anything else is thrown. Undefined once stopping.
 */
export async function retrying<T>(run: RetryContext, what: string, call: () => Promise<T>): Promise<T | undefined> {
  let throttled = 0;
  let failed = 0;
  let failingSince: number | undefined;
  const maxFailures = run.options.maxTransientRetries ?? 10;
  const budgetMs = run.options.transientBudgetMs ?? 120_000;
  for (;;) {
    if (run.stopping) return undefined;
    try {
      return await call();
    } catch (err) {
      if (run.stopping) return undefined;
      const kind = classifyError(err);
      const name = (err as Error)?.name ?? String(err);
      if (kind === "throttle") {
        run.counts.throttles += 1;
        if (throttled === 0) run.log(`${what}: throttled (${name}); backing off`);
        await run.clock.sleep(backoffDelay(throttled++, run.options.backoff), run.stopSignal);
      } else if (kind === "transient") {
        failingSince ??= run.clock.now();
        const failingFor = run.clock.now() - failingSince;
        if (failed >= maxFailures || failingFor >= budgetMs) {
          throw new GaveUpError(what, failed + 1, failingFor, err);
        }
        run.counts.retries += 1;
        run.log(`${what}: ${name}: ${(err as Error)?.message ?? ""}; retrying`);
        await run.clock.sleep(Math.min(backoffDelay(failed++, run.options.backoff), Math.max(0, budgetMs - failingFor)), run.stopSignal);
      } else {
        throw err;
      }
    }
  }
}
