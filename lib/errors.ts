/**
 * The errors the library throws, one class per thing a caller can fix (or must know about), all
 * `instanceof DatalakeError`. Each message is one sentence naming what is wrong and the fix.
 *
 * The apps' code underneath throws its own errors (one `UserError` for everything a user can fix, worded
 * for the command line); `toLibraryError` turns them into these classes and words flags as options.
 */
import { CheckpointSaveError } from "../runtime/consumer/checkpoint";
import { GaveUpError } from "../runtime/consumer/engine";
import { PublishSummary, StalledError } from "../runtime/producer/publisher";
import { describeAwsError, UserError } from "../runtime/errors";
import { classifyError } from "../runtime/kinesis-errors";

/** The base class of every error the library throws on purpose. */
export class DatalakeError extends Error {
  /** @param cause the underlying error (`err.cause`), when this one translates another (AWS SDK, file system) */
  constructor(message: string, cause?: unknown) {
    super(message, cause !== undefined ? { cause } : undefined);
    this.name = new.target.name;
  }
}

/** Options or environment that cannot work: no catalog, a bad catalog, no region or credentials, a bad endpoint or value. */
export class ConfigurationError extends DatalakeError {}

/** The segment address is not in the catalog. `known` lists the addresses that are. */
export class SegmentNotFoundError extends DatalakeError {
  constructor(
    readonly segment: string,
    readonly known: string[],
    source: string,
  ) {
    super(`unknown segment "${segment}" in ${source}; known segments: ${known.join(", ")}`);
  }
}

/** The catalog names a stream the endpoint does not have (not deployed, another region, another account). */
export class StreamNotFoundError extends DatalakeError {}

/** AWS refused the call: the role lacks the segment's producer, consumer or reader policy. */
export class AccessDeniedError extends DatalakeError {}

/**
 * A checkpoint that cannot be used: it belongs to another stream, another consumer holds it, it cannot be
 * written or saved, or (replay) the position it names is gone.
 */
export class CheckpointError extends DatalakeError {}

/**
 * Another consumer holds the checkpoint file's lock. Stop it or use another file; a lock left by a killed
 * consumer (kill -9) expires by itself within about 10 seconds, so a restarted consumer can wait and retry.
 */
export class CheckpointInUseError extends CheckpointError {}

/**
 * Publish or replay could not deliver every record within its budget. `summary` says what was delivered
 * (for replay: of the batch that failed; the replay's checkpoint stays before that batch).
 */
export class DeliveryError extends DatalakeError {
  constructor(
    message: string,
    readonly summary: PublishSummary,
  ) {
    super(message);
  }
}

/** The archive holds an object that cannot be read (corrupt or truncated) and `onCorrupt` is "fail". */
export class ArchiveError extends DatalakeError {}

/**
 * The stream did not answer usefully within the retry budget (unreachable endpoint, calls timing out,
 * 5xx for longer than the budget, nothing accepted for a whole record budget). Not the caller's doing;
 * typed so a caller can retry later.
 */
export class UnavailableError extends DatalakeError {}

/** Command-line words in the apps' messages, as a library caller knows them. */
const FLAG_WORDS: Array<[RegExp, string]> = [
  [/--on-corrupt skip/g, 'onCorrupt: "skip"'],
  [/pass --restart/g, "pass restart: true"],
  [/--allow-source-replay/g, "allowSourceReplay: true"],
  [/\(--call-timeout\)/g, "(callTimeoutMs)"],
  [/ or read without --consumer/g, " or consume without the consumer option"],
  [/ \(or pass --region\)/g, " (or pass the region option)"],
  [/, or use --endpoint for an emulator/g, ", or pass the endpoint option for an emulator"],
  [/--(checkpoint|consumer|from|segment|endpoint|region|catalog) /g, "$1 "],
  [/ from --from/g, " from `from`"],
];

/** An apps' message worded for the library: options instead of flags. */
export function libraryWording(message: string): string {
  return FLAG_WORDS.reduce((text, [pattern, words]) => text.replace(pattern, words), message);
}

/** What the error is about, so that a `UserError` of the apps gets the right class. */
export type ErrorContext = "setup" | "checkpoint" | "replay-checkpoint";

/**
 * The library's error for anything thrown underneath: a `DatalakeError` as it is, the apps' user errors and
 * well-known AWS errors as the class that says what to fix, retry budgets running out as `UnavailableError`.
 * Anything else (a bug, an error thrown by the caller's own function) is returned unchanged.
 */
export function toLibraryError(err: unknown, context: ErrorContext = "setup"): unknown {
  if (err instanceof DatalakeError) return err;
  if (err instanceof CheckpointSaveError) return new CheckpointError(libraryWording(err.message), err);
  if (err instanceof UserError) {
    const message = libraryWording(err.message);
    if (context === "checkpoint" && /is in use by another subscriber/.test(err.message)) return new CheckpointInUseError(message, err);
    if (context === "checkpoint" && /checkpoint/i.test(err.message)) return new CheckpointError(message, err);
    if (context === "replay-checkpoint") return new CheckpointError(message, err);
    if (/^stream "[^"]+" not found/.test(err.message)) return new StreamNotFoundError(message, err);
    if (/^access denied/.test(err.message)) return new AccessDeniedError(message, err);
    return new ConfigurationError(message, err);
  }
  if (err instanceof StalledError || err instanceof GaveUpError) return new UnavailableError(err.message, err);
  const name = (err as Error)?.name;
  if (name === "ResourceNotFoundException") return new StreamNotFoundError(describeAwsError(err) ?? String(err), err);
  if (name === "AccessDeniedException" || name === "UnrecognizedClientException") {
    return new AccessDeniedError(describeAwsError(err) ?? String(err), err);
  }
  const known = describeAwsError(err);
  if (classifyError(err) === "transient") return new UnavailableError(libraryWording(known ?? `${name}: ${(err as Error)?.message}`), err);
  if (known === undefined) return err;
  return /credentials|region/i.test(known) ? new ConfigurationError(libraryWording(known), err) : new UnavailableError(libraryWording(known), err);
}
