/**
 * Which PutRecords failures are worth retrying. Throttling, server faults and network errors pass with
 * time; a missing stream, a denied permission, bad input or missing credentials do not, so those end the
 * run at once instead of burning every record's time budget.
 */

/** Error names (whole request) that mean "slow down and try again". */
const RETRYABLE_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "LimitExceededException",
  "KMSThrottlingException",
  "ThrottlingException",
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
const NETWORK_CODES = new Set([
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

/** Network codes that, before anything was ever delivered, mean a wrong endpoint rather than a blip. */
const MISCONFIGURED_CODES = new Set(["ECONNREFUSED", "ENOTFOUND"]);

/** Per-entry error codes that will not go away by resending the entry. */
const PERMANENT_ENTRY_CODES = new Set([
  "AccessDeniedException",
  "InvalidArgumentException",
  "ValidationException",
  "KMSAccessDeniedException",
  "KMSDisabledException",
  "KMSInvalidStateException",
  "KMSNotFoundException",
  "KMSOptInRequired",
]);

interface SdkLikeError {
  name?: string;
  code?: string;
  $fault?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** A short code for a failure: the AWS error name, else the Node error code, else the error's name. */
export function errorCode(err: unknown): string {
  const e = (err ?? {}) as SdkLikeError;
  if (e.name && e.name !== "Error") return e.name;
  return e.code ?? e.name ?? "UnknownError";
}

/**
 * True when a failed PutRecords call should be sent again (after backoff).
 * @param delivered whether any request of this run has succeeded yet
 */
export function isRetryableRequestError(err: unknown, delivered: boolean): boolean {
  const e = (err ?? {}) as SdkLikeError;
  if (e.name && RETRYABLE_NAMES.has(e.name)) return true;
  if (e.code && NETWORK_CODES.has(e.code)) return delivered || !MISCONFIGURED_CODES.has(e.code);
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (e.$fault === "server" || e.$retryable) return true;
  return false;
}

/** True when a per-entry `ErrorCode` of a PutRecords response is worth resending. */
export function isRetryableEntryCode(code: string): boolean {
  return !PERMANENT_ENTRY_CODES.has(code);
}
