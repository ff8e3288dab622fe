/**
 * Replays a time window of a segment's archive: lists the window's objects, reads them in time order,
 * and hands their records to a sender in batches, saving a checkpoint after each delivered batch.
 * Independent of the CLI and of Kinesis (the sender is the publisher's delivery core in the app).
 */
import { createHash } from "crypto";
import { ArchiveObject, selectWindow, windowHourPrefixes } from "../../model/archive";
import { matchesPattern } from "../../model/event-pattern";
import { ArchiveStore, CorruptObjectError, decodeObject } from "../../local/archive";
import { ReplayCheckpoint, ReplayPosition } from "./checkpoint";
import type { PublishRecord, PublishSummary } from "../publisher/publisher";

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
  /** Only count. @default false */
  dryRun?: boolean;
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
  /** Keys of corrupt or truncated objects that were skipped. */
  corrupt: string[];
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

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const batchSize = Math.max(1, Math.min(options.batchSize ?? REPLAY_BATCH, options.rate ? Math.ceil(options.rate) : REPLAY_BATCH));
  const objects = await listWindow(options.store, options.from, options.to);
  const summary: ReplaySummary = {
    objects: objects.length,
    objectsRead: 0,
    corrupt: [],
    recordsRead: 0,
    matched: 0,
    published: 0,
    failed: { count: 0, reasons: {} },
    keyFallbacks: 0,
    interrupted: false,
    durationMs: 0,
  };
  const checkpoint = options.dryRun ? undefined : options.checkpoint;
  const resume = checkpoint?.state.position;
  summary.resumedFrom = resume;
  // The resume object's time, to skip every object that sorts before it (objects are in time, key order).
  const resumeObject = resume ? objects.find((o) => o.key === resume.key) : undefined;
  if (resume && !resumeObject) {
    throw new ReplayStoppedError(
      `the checkpoint's object ${resume.key} is no longer in the archive window; pass --restart to replay the whole window again`,
    );
  }

  let batch: PublishRecord[] = [];
  let batchEnd: ReplayPosition | undefined;
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
        checkpoint.state.position = batchEnd;
        checkpoint.state.published += records.length;
        checkpoint.save(checkpoint.state);
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
    if (resumeObject && compare(object, resumeObject.key, resumeObject.time) < 0) continue;
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
      log(`skipped corrupt object ${err.message}; nothing of it was replayed`);
      continue;
    }
    const first = resume && object.key === resume.key ? resume.index : 0;
    for (let i = first; i < records.length; i++) {
      summary.recordsRead++;
      const line = records[i];
      batchEnd = { key: object.key, index: i + 1 };
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
    summary.objectsRead++;
    if (options.signal?.aborted) {
      summary.interrupted = true;
      break;
    }
    options.onProgress?.(summary);
  }
  await flush();
  // The filter may have dropped the window's tail: remember that it was read, so a rerun starts after it.
  if (checkpoint && !summary.interrupted && batchEnd && !options.dryRun) {
    checkpoint.state.position = batchEnd;
    checkpoint.state.completedAt = new Date().toISOString();
    checkpoint.save(checkpoint.state);
  }
  summary.durationMs = Date.now() - started;
  return summary;
}
