/**
 * `lake.consume()`: the options a caller gives, checked and turned into a run of the batch layer
 * (consume.ts) over the subscriber's engine, with the checkpoint file (locked while in use) and, for an
 * enhanced fan-out consumer, its own HTTP/2 client.
 */
import { createKinesisClient, DeadlineKinesisClient } from "../runtime/client";
import { FileCheckpointStore } from "../runtime/consumer/checkpoint";
import { consumerArn } from "../apps/subscriber/consumer-arn";
import type { FanOut } from "../runtime/consumer/fan-out-reader";
import type { StartFrom } from "../runtime/consumer/shards";
import { CommittedPositions } from "../runtime/consumer/committed-positions";
import { Batch, BatchFailed, ConsumeSummary, runBatches } from "./consume";
import { CheckpointError, ConfigurationError, libraryWording, toLibraryError } from "./errors";
import type { LakeHandle } from "./lake-handle";

export interface LakeConsumeOptions {
  /** The segment's address, `layer/segment`. */
  segment: string;
  /**
   * Handles one batch: the records of one read of one shard, in order. Batches of one shard come one at a
   * time (the shard is not read further meanwhile); different shards run concurrently; a child shard's first
   * batch comes after its parents' last. A rejection stops the consumer, and `consume` rejects with it.
   */
  eachBatch(batch: Batch): Promise<void> | void;
  /**
   * File that keeps, per shard, the last record checkpointed (the subscriber's checkpoint format); a restart
   * resumes after it. Locked while in use. @default none: every run starts at `from`
   */
  checkpoint?: string;
  /** Checkpoint each batch once `eachBatch` resolved; with false only `batch.checkpoint()` saves. @default true */
  autoCheckpoint?: boolean;
  /** Where shards the checkpoint does not know start: the oldest record retained, new records only, or a time. @default "latest" */
  from?: "trim-horizon" | "latest" | Date;
  /** Read through this registered enhanced fan-out consumer (SubscribeToShard) instead of polling. @default polling */
  consumer?: string;
  /**
   * Stop once no record arrived for this long, counting only while no batch runs or waits (a slow batch that
   * holds its shard's reads back is not idleness) and no call is under way. @default never
   */
  idleTimeoutMs?: number;
  /** GetRecords calls per second per shard while behind (a shard serves 5 to all its readers). @default 2 */
  readsPerSecond?: number;
  /** Stops the consumer: batches under way finish (their `signal` aborts), the checkpoint is saved. @default none */
  signal?: AbortSignal;
}

function startFrom(from: LakeConsumeOptions["from"]): StartFrom {
  if (from === undefined || from === "latest") return { type: "latest" };
  if (from === "trim-horizon") return { type: "trim-horizon" };
  if (from instanceof Date && !Number.isNaN(from.getTime())) {
    if (from.getTime() > Date.now()) throw new ConfigurationError(`from ${from.toISOString()} is in the future; pass a time that has passed, "trim-horizon" or "latest"`);
    return { type: "at-timestamp", at: from };
  }
  throw new ConfigurationError(`from must be "trim-horizon", "latest" or a Date, got ${String(from)}`);
}

function checkOptions(options: LakeConsumeOptions): void {
  if (typeof options.eachBatch !== "function") throw new ConfigurationError("consume needs eachBatch, an async function that handles one batch");
  if (options.idleTimeoutMs !== undefined && !(options.idleTimeoutMs > 0)) {
    throw new ConfigurationError(`idleTimeoutMs must be a positive number of ms, got ${options.idleTimeoutMs}`);
  }
  const reads = options.readsPerSecond;
  if (reads !== undefined && !(reads > 0 && reads <= 5)) throw new ConfigurationError(`readsPerSecond must be more than 0 and at most 5 (a shard's limit), got ${reads}`);
}

export async function consumeSegment(lake: LakeHandle, options: LakeConsumeOptions): Promise<ConsumeSummary> {
  checkOptions(options);
  const from = startFrom(options.from);
  const segment = await lake.segment(options.segment);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  if (options.signal?.aborted) stop.abort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  let lockLost: Error | undefined;
  const file = options.checkpoint !== undefined ? new FileCheckpointStore(options.checkpoint, segment.identity) : undefined;
  let fanOutClient: DeadlineKinesisClient | undefined;
  try {
    let fanOut: FanOut | undefined;
    if (options.consumer !== undefined) {
      const arn = await consumerArn({ client: lake.client, ...segment }, options.consumer);
      const { endpoint, region, callTimeoutMs } = lake.context;
      fanOutClient = createKinesisClient({ endpoint, region, callTimeoutMs, http2: true });
      fanOut = { consumerArn: arn, client: fanOutClient };
    }
    await file?.open((err) => {
      lockLost ??= new CheckpointError(libraryWording(err.message), err);
      stop.abort();
    });
    const summary = await runBatches(
      lake.client,
      segment.streamName,
      {
        from,
        fanOut,
        minGetRecordsIntervalMs: Math.ceil(1000 / (options.readsPerSecond ?? 2)),
        log: lake.context.log,
      },
      {
        eachBatch: options.eachBatch,
        autoCheckpoint: options.autoCheckpoint ?? true,
        positions: file && new CommittedPositions(file),
        maxBufferedRecords: 10_000,
        idleTimeoutMs: options.idleTimeoutMs,
        signal: stop.signal,
      },
    );
    if (lockLost) throw lockLost;
    return summary;
  } catch (err) {
    if (lockLost) throw lockLost;
    // The caller's own error, as it threw it.
    if (err instanceof BatchFailed) throw err.error;
    throw toLibraryError(err, "checkpoint");
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await file?.close();
    fanOutClient?.destroy();
  }
}
