/**
 * What a reader does with a failed Kinesis call: back off and retry, get a new iterator, or give up.
 */

export type ErrorKind =
  /** The shard, the account or KMS is over its limit: back off and retry, however long it takes. */
  | "throttle"
  /** The shard iterator is older than 5 minutes: get a new one from the last record written. */
  | "expired"
  /** A network error or a 5xx: back off and retry a bounded number of times. */
  | "transient"
  /** The call was aborted because the subscriber is stopping. */
  | "aborted"
  /** Anything else (access denied, stream deleted, bad request): stop with this error. */
  | "fatal";

const THROTTLES = new Set([
  "ProvisionedThroughputExceededException",
  "LimitExceededException",
  "KMSThrottlingException",
  "ThrottlingException",
]);

const TRANSIENT_NAMES = new Set(["InternalFailureException", "InternalFailure", "ServiceUnavailable", "TimeoutError", "RequestTimeout"]);

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
]);

export function classifyError(err: unknown): ErrorKind {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const name = e?.name ?? "";
  if (name === "AbortError") return "aborted";
  if (THROTTLES.has(name)) return "throttle";
  if (name === "ExpiredIteratorException") return "expired";
  if (TRANSIENT_NAMES.has(name) || NETWORK_CODES.has(e?.code ?? "") || e?.$retryable) return "transient";
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return "transient";
  return "fatal";
}
