/**
 * `lake.replay()`: a time window of a segment's archive republished into a segment, through apps/replay
 * (objects listed per hour prefix and read in time order, batches of 500 delivered by the publisher's core,
 * a checkpoint after each delivered batch). Which archive: `archiveDir` when given, else the local lake's
 * folder when the catalog names one (`localArchiveDir`, a catalog `datalake local-lake` wrote), else the
 * segment's S3 bucket.
 */
import * as path from "path";
import { ArchiveStore, LocalArchiveStore } from "../runtime/archive/local-store";
import { entryRegion } from "../runtime/catalog";
import { patternMatcherProblems } from "../model/event-pattern";
import { publish } from "../runtime/producer/publisher";
import { undeliveredReason } from "../apps/publisher/report";
import { loadCheckpoint, ReplayCheckpoint, ReplayIdentity, saveCheckpoint } from "../apps/replay/checkpoint";
import { replay, ReplayStoppedError, ReplaySummary } from "../apps/replay/replay";
import { S3ArchiveStore } from "../runtime/archive/s3-store";
import { ArchiveError, CheckpointError, ConfigurationError, DeliveryError, libraryWording, toLibraryError } from "./errors";
import type { LakeHandle } from "./lake-handle";

export type { ReplaySummary } from "../apps/replay/replay";

export interface LakeReplayOptions {
  /** The segment whose archive to read, `layer/segment`. */
  segment: string;
  /** Window start, inclusive. */
  from: Date;
  /** Window end, exclusive. */
  to: Date;
  /** The segment to publish into. @default `segment` itself, which needs `allowSourceReplay` */
  into?: string;
  /** Allow `into` to be the source segment (its archive then holds those records twice). @default false */
  allowSourceReplay?: boolean;
  /** EventBridge content pattern: only matching records are replayed. @default every record */
  filter?: Record<string, unknown>;
  /** JSON field whose value is the partition key. @default a key derived from the record's place in the archive */
  keyField?: string;
  /** Records per second at most. @default unlimited */
  rate?: number;
  /** Only count what would be replayed. @default false */
  dryRun?: boolean;
  /** File that keeps the replay's progress; running the same replay again resumes after the last batch delivered. @default none: the whole window each time */
  checkpoint?: string;
  /** Ignore the checkpoint's progress and replay the whole window. @default false */
  restart?: boolean;
  /** A corrupt or truncated object stops the replay ("fail") or is skipped and listed in `corrupt` ("skip"). @default "fail" */
  onCorrupt?: "skip" | "fail";
  /** Folder holding one folder per bucket (a local lake's `<dir>/s3`). @default the catalog's local folder, else S3 */
  archiveDir?: string;
  /** PutRecords requests in flight. @default 8 */
  concurrency?: number;
  /** Stops after the batch in flight; run again with the same checkpoint to resume. @default none */
  signal?: AbortSignal;
}

/** What a replay did; `alreadyCompleted` is the time an earlier run with the same checkpoint finished the window (nothing was replayed). */
export type LakeReplaySummary = ReplaySummary & { alreadyCompleted?: string };

function checkWindow(options: LakeReplayOptions): void {
  const valid = (d: unknown) => d instanceof Date && !Number.isNaN(d.getTime());
  if (!valid(options.from) || !valid(options.to)) throw new ConfigurationError("replay needs from and to, both Dates (the window, from inclusive, to exclusive)");
  if (options.to.getTime() <= options.from.getTime()) throw new ConfigurationError(`to (${options.to.toISOString()}) must be after from (${options.from.toISOString()})`);
  if (options.filter !== undefined) {
    const problems = patternMatcherProblems(options.filter);
    if (problems.length > 0) throw new ConfigurationError(`filter: ${problems[0][0].join(".")}: ${problems[0][1]}`);
  }
}

export async function replaySegment(lake: LakeHandle, options: LakeReplayOptions): Promise<LakeReplaySummary> {
  checkWindow(options);
  const into = options.into ?? options.segment;
  if (into === options.segment && !options.allowSourceReplay && !options.dryRun) {
    throw new ConfigurationError(
      `replaying ${options.segment} into itself would archive the same records a second time; pass into: another segment, or allowSourceReplay: true if that is what you want`,
    );
  }
  const source = await lake.segment(options.segment);
  const bucket = source.entry.bucketName;
  if (!bucket) throw new ConfigurationError(`the catalog entry of ${options.segment} has no bucketName; use the stack's catalog output`);
  const store: ArchiveStore & { close?(): void } = options.archiveDir
    ? new LocalArchiveStore(path.join(path.resolve(options.archiveDir), bucket))
    : source.entry.localArchiveDir
      ? new LocalArchiveStore(source.entry.localArchiveDir)
      : new S3ArchiveStore(bucket, { region: entryRegion(source.entry) ?? lake.context.region });
  const identity: ReplayIdentity = {
    segment: options.segment,
    into,
    from: options.from.toISOString(),
    to: options.to.toISOString(),
    filter: options.filter ? JSON.stringify(options.filter) : null,
    keyField: options.keyField ?? null,
  };
  try {
    let checkpoint: { state: ReplayCheckpoint; save: (state: ReplayCheckpoint) => void } | undefined;
    if (options.checkpoint !== undefined && !options.dryRun) {
      const file = path.resolve(options.checkpoint);
      let state: ReplayCheckpoint;
      try {
        state = options.restart ? { version: 1, replay: identity, published: 0 } : loadCheckpoint(file, identity);
      } catch (err) {
        throw toLibraryError(err, "replay-checkpoint");
      }
      if (state.completedAt) return { ...emptySummary(), alreadyCompleted: state.completedAt };
      checkpoint = { state, save: (s) => saveCheckpoint(file, s) };
    }
    const target = options.dryRun ? undefined : await lake.segment(into);
    return await replay({
      store,
      from: options.from,
      to: options.to,
      filter: options.filter,
      keyField: options.keyField,
      dryRun: options.dryRun,
      rate: options.rate,
      onCorrupt: options.onCorrupt ?? "fail",
      signal: options.signal,
      checkpoint,
      log: lake.context.log,
      send: async (records) => {
        const summary = await publish(lake.client, target!.streamName, records, { concurrency: options.concurrency, total: records.length });
        const reason = undeliveredReason(summary, records.length);
        if (reason) throw new DeliveryError(`replay into ${into} stopped: ${reason}; ${checkpoint ? "the checkpoint stays before that batch, so the same replay resumes there" : "pass a checkpoint to resume"}`, summary);
        return summary;
      },
    });
  } catch (err) {
    if (err instanceof ReplayStoppedError) {
      const message = libraryWording(err.message);
      throw /^corrupt object/.test(err.message) ? new ArchiveError(message, err) : new CheckpointError(message, err);
    }
    throw toLibraryError(err);
  } finally {
    store.close?.();
  }
}

function emptySummary(): ReplaySummary {
  return { objects: 0, objectsRead: 0, corrupt: [], recordsRead: 0, matched: 0, published: 0, failed: { count: 0, reasons: {} }, keyFallbacks: 0, interrupted: false, durationMs: 0, recovered: [], missing: [], unreplayed: [], windowOpen: false };
}
