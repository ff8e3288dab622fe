import { sleep } from "../backoff";
/**
 * Deadlines and bounded retries for the lease table's DynamoDB calls: each attempt is aborted after
 * `callTimeoutMs` (an AbortSignal, so a silent endpoint cannot hang a worker), transient failures are
 * retried with capped, jittered backoff up to `attempts` in all, and nothing else is retried.
 */

export interface RetryOptions {
  /** Deadline of one attempt. @default 2000 */
  callTimeoutMs?: number;
  /** Attempts in all, the first included. @default 3 */
  attempts?: number;
  /** First backoff ceiling; the n-th retry waits up to base * 2^n, at most 1 s. @default 50 */
  backoffBaseMs?: number;
  /** Ends every attempt and the waits between them (the worker is stopping). @default none */
  signal?: AbortSignal;
}

/** Errors that say nothing about the request having been refused: throttling, 5xx, timeouts, sockets. */
export function isTransient(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $retryable?: unknown; $fault?: string; $metadata?: { httpStatusCode?: number } };
  if (!e || typeof e !== "object") return false;
  if (e.name === "ConditionalCheckFailedException" || e.name === "ResourceNotFoundException" || e.name === "ValidationException") return false;
  if (e.$retryable || e.$fault === "server") return true;
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  const transientNames = [
    "AbortError",
    "TimeoutError",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
  ];
  if (transientNames.includes(e.name ?? "")) return true;
  return ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"].includes(e.code ?? "");
}


/**
 * Runs `call` with a fresh deadline signal per attempt. `ambiguous` tells the caller that an earlier
 * attempt ended without an answer (it may have been applied), so a conditional write that now fails its
 * condition may be failing on its own earlier success.
 */
export async function withRetries<T>(call: (signal: AbortSignal, ambiguous: boolean) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const timeout = options.callTimeoutMs ?? 2_000;
  const base = options.backoffBaseMs ?? 50;
  let ambiguous = false;
  for (let attempt = 0; ; attempt++) {
    const signals = [AbortSignal.timeout(timeout), ...(options.signal ? [options.signal] : [])];
    try {
      return await call(AbortSignal.any(signals), ambiguous);
    } catch (err) {
      if (options.signal?.aborted || attempt + 1 >= attempts || !isTransient(err)) throw err;
      ambiguous = true;
      await sleep(Math.floor(Math.random() * Math.min(1_000, base * 2 ** attempt)), options.signal);
    }
  }
}
