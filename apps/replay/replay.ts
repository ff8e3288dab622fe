/**
 * Replays a time window of a segment's archive: lists the window's objects, reads them in time order,
 * and hands their records to a sender in batches, saving a checkpoint after each delivered batch.
 * Independent of the CLI and of Kinesis (the sender is the publisher's delivery core in the app).
 */
import { createHash } from "crypto";
import { ArchiveObject, selectWindow, windowHourPrefixes } from "../../model/archive";
import { matchesPattern } from "../../model/event-pattern";
import { sleep } from "../../runtime/backoff";
import { ArchiveStore, CorruptObjectError, decodeObject } from "../../runtime/archive/local-store";
import { ReplayCheckpoint, ReplayPosition } from "./checkpoint";
import type { PublishRecord, PublishSummary } from "../../runtime/producer/publisher";

/** Records per batch: one PutRecords request at most, so a crash re-sends at most this many. */
export const REPLAY_BATCH = 500;

export interface ReplayOptions {
  store: ArchiveStore;
  /** Window start, inclusive. */
  from: Date;
  /** Window end, exclusive. */
  to: Date;
  /** EventBridge content pattern; records it does not match are not replayed. @default none (all) */
  filter?: Record<string, unknown>;
  /** JSON field whose value becomes the partition key. @default a key derived from the record's position */
  keyField?: string;
  /** Only count: reads the checkpoint like a real run (where it would start, what it would retry), saves nothing. @default false */
  dryRun?: boolean;
  /** The current time: a window that ends after it is not marked complete (more objects may arrive). @default now */
  now?: Date;
  /** Records per second at most. @default unlimited */
  rate?: number;
  /** What a corrupt or truncated object does: skipped (reported, run ends non-zero) or stops the run. @default "skip" */
  onCorrupt?: "skip" | "fail";
  /** Delivers one batch; resolves with what happened to each record. Unused in a dry run. */
  send?: (records: PublishRecord[]) => Promise<PublishSummary>;
  /** Where a previous run stopped, and where to save progress. @default start of the window, nothing saved */
  checkpoint?: { state: ReplayCheckpoint; save: (state: ReplayCheckpoint) => void };
  /** Called after each object and batch. @default none */
  onProgress?: (progress: ReplaySummary) => void;
  /** Receives one line per notable event (corrupt object skipped). @default discard */
  log?: (line: string) => void;
  /** Stops after the batch in flight (Ctrl-C). @default none */
  signal?: AbortSignal;
  /** Records per batch. @default REPLAY_BATCH */
  batchSize?: number;
}

export interface ReplaySummary {
  /** Objects in the window. */
  objects: number;
  /** Objects read (or skipped as corrupt) so far. */
  objectsRead: number;
  /** Keys of corrupt or truncated objects that were skipped in this run (newly, or again). */
  corrupt: string[];
  /** Objects an earlier run skipped as corrupt that this run replayed. */
  recovered: string[];
  /** Objects an earlier run skipped as corrupt that are no longer in the archive window. */
  missing: string[];
  /** Objects skipped so far and not replayed yet (this run's and earlier runs'): the run must not pass. */
  unreplayed: string[];
  /** The window ends after now: its checkpoint is not marked complete, so a later run replays what arrives. */
  windowOpen: boolean;
  /** Records read from the objects (this run; records before a resume position are not counted). */
  recordsRead: number;
  /** Records the filter kept. */
  matched: number;
  /** Records confirmed delivered in this run. */
  published: number;
  /** Records that could not be delivered; reasons by error code. */
  failed: { count: number; reasons: Record<string, number> };
  /** Records whose `keyField` was missing or not a string or number, sent under a position key instead. */
  keyFallbacks: number;
  /** Where this run started, when it resumed a checkpoint. */
  resumedFrom?: ReplayPosition;
  interrupted: boolean;
  durationMs: number;
}

/** Stops a replay: undelivered records or a corrupt object with `onCorrupt: "fail"`. The checkpoint stays before it. */
export class ReplayStoppedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReplayStoppedError";
  }
}

/** The window's objects, in time order, read through the store's listing of each hour prefix. */
export async function listWindow(store: ArchiveStore, from: Date, to: Date): Promise<ArchiveObject[]> {
  const keys: string[] = [];
  for (const prefix of windowHourPrefixes(from, to)) {
    for await (const key of store.list(prefix)) keys.push(key);
  }
  return selectWindow(keys, from, to);
}

function compare(a: ArchiveObject, key: string, time: Date | undefined): number {
  if (!time) return 0;
  return a.time.getTime() - time.getTime() || (a.key < key ? -1 : a.key > key ? 1 : 0);
}

/** The partition key of a replayed record: its `keyField`, else one spread evenly and stable across runs. */
function partitionKeyOf(line: string, object: ArchiveObject, index: number, keyField: string | undefined): { key: string; fallback: boolean } {
  if (keyField) {
    try {
      const value = (JSON.parse(line) as Record<string, unknown>)[keyField];
      if ((typeof value === "string" || typeof value === "number") && String(value).length >= 1 && String(value).length <= 256) {
        return { key: String(value), fallback: false };
      }
    } catch {
      // not JSON: falls back below
    }
  }
  const objectHash = createHash("sha256").update(object.key).digest("hex").slice(0, 16);
  return { key: `${objectHash}-${index}`, fallback: Boolean(keyField) };
}

export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const batchSize = Math.max(1, Math.min(options.batchSize ?? REPLAY_BATCH, options.rate ? Math.ceil(options.rate) : REPLAY_BATCH));
  const objects = await listWindow(options.store, options.from, options.to);
  const summary: ReplaySummary = {
    objects: objects.length,
    objectsRead: 0,
    corrupt: [],
    recovered: [],
    missing: [],
    unreplayed: [],
    windowOpen: options.to.getTime() > (options.now ?? new Date()).getTime(),
    recordsRead: 0,
    matched: 0,
    published: 0,
    failed: { count: 0, reasons: {} },
    keyFallbacks: 0,
    interrupted: false,
    durationMs: 0,
  };
  // A dry run reads the checkpoint as the real run would, and saves nothing.
  const checkpoint = options.checkpoint;
  const save = (state: ReplayCheckpoint) => {
    if (!options.dryRun) checkpoint?.save(state);
  };
  const resume = checkpoint?.state.position;
  summary.resumedFrom = resume;
  // Objects an earlier run skipped as corrupt: tried again wherever they sort, each in batches of its own.
  const skipped = new Set(checkpoint?.state.skipped ?? []);
  const retrying = checkpoint?.state.retrying;
  const remember = () => {
    if (!checkpoint) return;
    checkpoint.state.skipped = [...skipped];
    if (checkpoint.state.skipped.length === 0) delete checkpoint.state.skipped;
    save(checkpoint.state);
  };
  const listed = new Set(objects.map((o) => o.key));
  summary.missing = [...skipped].filter((k) => !listed.has(k));
  // The resume object's time, to skip every object that sorts before it (objects are in time, key order).
  const resumeObject = resume ? objects.find((o) => o.key === resume.key) : undefined;
  if (resume && !resumeObject) {
    throw new ReplayStoppedError(
      `the checkpoint's object ${resume.key} is no longer in the archive window; pass --restart to replay the whole window again`,
    );
  }

  let batch: PublishRecord[] = [];
  let batchEnd: ReplayPosition | undefined;
  /** The batch holds records of a skipped object being retried: it moves `retrying`, not `position`. */
  let batchRetry = false;
  /** The end of the last record of the main pass (not of retried objects). */
  let mainEnd: ReplayPosition | undefined;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const records = batch;
    batch = [];
    if (!options.dryRun) {
      if (!options.send) throw new Error("replay: no sender");
      const result = await options.send(records);
      summary.published += result.sent;
      if (result.failed.count > 0 || result.sent < records.length) {
        const missing = records.length - result.sent;
        summary.failed.count += missing;
        for (const [reason, count] of Object.entries(result.failed.reasons)) {
          summary.failed.reasons[reason] = (summary.failed.reasons[reason] ?? 0) + count;
        }
        throw new ReplayStoppedError(
          `${missing} of ${records.length} records of a batch could not be delivered; the checkpoint stays before that batch, so running the same command again resumes there`,
        );
      }
      if (checkpoint && batchEnd) {
        if (batchRetry) checkpoint.state.retrying = batchEnd;
        else checkpoint.state.position = batchEnd;
        checkpoint.state.published += records.length;
        save(checkpoint.state);
      }
    }
    options.onProgress?.(summary);
    if (options.rate) {
      const due = (summary.matched / options.rate) * 1000 - (Date.now() - started);
      await sleep(due, options.signal);
    }
  };

  for (const object of objects) {
    if (options.signal?.aborted) {
      summary.interrupted = true;
      break;
    }
    const retry = skipped.has(object.key);
    if (!retry && resumeObject && compare(object, resumeObject.key, resumeObject.time) < 0) continue;
    // A retried object's batches are its own, so the checkpoint can say how far into it they got.
    if (retry !== batchRetry) await flush();
    batchRetry = retry;
    let records: string[];
    try {
      records = decodeObject(object, await options.store.read(object.key));
    } catch (err) {
      if (!(err instanceof CorruptObjectError)) throw err;
      summary.corrupt.push(object.key);
      summary.objectsRead++;
      if (options.onCorrupt === "fail") {
        await flush();
        throw new ReplayStoppedError(`corrupt object ${err.message}; nothing of it was replayed (pass --on-corrupt skip to skip it)`);
      }
      if (!retry) {
        // Remembered before the position moves past it, so no later run forgets it.
        skipped.add(object.key);
        remember();
      }
      log(`${retry ? "still corrupt" : "skipped corrupt object"} ${err.message}; nothing of it was replayed`);
      continue;
    }
    const first = retry
      ? retrying?.key === object.key
        ? retrying.index
        : 0
      : resume && object.key === resume.key
        ? resume.index
        : 0;
    for (let i = first; i < records.length; i++) {
      summary.recordsRead++;
      const line = records[i];
      batchEnd = { key: object.key, index: i + 1 };
      if (!retry) mainEnd = batchEnd;
      if (options.filter) {
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          value = undefined;
        }
        if (!matchesPattern(options.filter, value)) continue;
      }
      summary.matched++;
      const { key, fallback } = partitionKeyOf(line, object, i, options.keyField);
      if (fallback) summary.keyFallbacks++;
      batch.push({ data: Buffer.from(line, "utf8"), partitionKey: key });
      if (batch.length >= batchSize) {
        await flush();
        if (options.signal?.aborted) break;
      }
    }
    if (retry && !options.signal?.aborted) {
      await flush();
      skipped.delete(object.key);
      summary.recovered.push(object.key);
      if (checkpoint) delete checkpoint.state.retrying;
      remember();
      log(`replayed ${object.key}, skipped as corrupt by an earlier run`);
    }
    summary.objectsRead++;
    if (options.signal?.aborted) {
      summary.interrupted = true;
      break;
    }
    options.onProgress?.(summary);
  }
  await flush();
  summary.unreplayed = [...skipped];
  // The filter may have dropped the window's tail: remember that it was read, so a rerun starts after it.
  // A window that has not ended yet is never complete: the same command later replays what arrived since.
  if (checkpoint && !summary.interrupted && !summary.windowOpen && objects.length > 0) {
    if (mainEnd) checkpoint.state.position = mainEnd;
    checkpoint.state.completedAt ??= new Date().toISOString();
    save(checkpoint.state);
  }
  summary.durationMs = Date.now() - started;
  return summary;
}
