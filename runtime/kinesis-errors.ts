/**
 * What a failed Kinesis call means, shared by the publisher and the subscriber: back off and retry,
 * get a new iterator, or give up.
 */

export type ErrorKind =
  /** The shard, the account or KMS is over its limit: back off and retry, however long it takes. */
  | "throttle"
  /** The shard iterator is older than 5 minutes: get a new one from the last record handled. */
  | "expired"
  /** A network error or a 5xx: the call may not have reached Kinesis; back off and retry. */
  | "transient"
  /** The call was aborted because the app is stopping. */
  | "aborted"
  /** Anything else (access denied, stream deleted, bad request, no credentials): stop with this error. */
  | "fatal";

const THROTTLES = new Set([
  "ProvisionedThroughputExceededException",
  "LimitExceededException",
  "KMSThrottlingException",
  "ThrottlingException",
]);

const TRANSIENT_NAMES = new Set([
  "InternalFailure",
  "InternalFailureException",
  "InternalServerError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
]);

/** Socket-level error codes of Node and undici: the request may not have reached Kinesis. */
export const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "UND_ERR_SOCKET",
]);

interface SdkLikeError {
  name?: string;
  code?: string;
  $fault?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

export function classifyError(err: unknown): ErrorKind {
  const e = (err ?? {}) as SdkLikeError;
  const name = e.name ?? "";
  if (name === "AbortError") return "aborted";
  if (THROTTLES.has(name)) return "throttle";
  if (name === "ExpiredIteratorException") return "expired";
  if (TRANSIENT_NAMES.has(name) || NETWORK_CODES.has(e.code ?? "") || e.$retryable || e.$fault === "server") return "transient";
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return "transient";
  return "fatal";
}

/** A short code for a failure: the AWS error name, else the Node error code, else the error's name. */
export function errorCode(err: unknown): string {
  const e = (err ?? {}) as SdkLikeError;
  if (e.name && e.name !== "Error") return e.name;
  return e.code ?? e.name ?? "UnknownError";
}
