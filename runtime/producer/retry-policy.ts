/**
 * Which PutRecords failures are worth retrying. Throttling, server faults and network errors pass with
 * time; a missing stream, a denied permission, bad input or missing credentials do not, so those end the
 * run at once instead of burning every record's time budget.
 */
import { classifyError } from "../kinesis-errors";

export { errorCode } from "../kinesis-errors";

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

/**
 * True when a failed PutRecords call should be sent again (after backoff).
 * @param delivered whether any request of this run has succeeded yet
 */
export function isRetryableRequestError(err: unknown, delivered: boolean): boolean {
  const kind = classifyError(err);
  if (kind !== "throttle" && kind !== "transient") return false;
  const code = (err as { code?: string } | undefined)?.code;
  return delivered || code === undefined || !MISCONFIGURED_CODES.has(code);
}

/** True when a per-entry `ErrorCode` of a PutRecords response is worth resending. */
export function isRetryableEntryCode(code: string): boolean {
  return !PERMANENT_ENTRY_CODES.has(code);
}
