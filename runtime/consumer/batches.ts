/**
 * The consumer engine's batch mode, under the library's `lake.consume()` (lib/consume.ts) and the local
 * lake's stand-in for Lambda's event source mapping (local/processor.ts): the engine (engine.ts) does the
 * reading (every shard, parents read to their end before their children, new shards found as they appear,
 * polling within the shard's read budget or enhanced fan-out, expired iterators renewed, bounded retries);
 * this layer groups its records per shard into batches (the records of one read), hands the consumer one
 * batch of a shard at a time (the shard's reader waits meanwhile: backpressure), holds a child shard's
 * first batch until its parents' batches are done, tells the consumer in the same order when a shard is
 * read to its tip and when it ended, and saves only what the consumer checkpointed, with the shard's state
 * (committed-positions.ts).
 */
import type { KinesisRecord, SubscribeOptions } from "./engine-options";
import type { KinesisSender, ShardInfo } from "./shards";
import { subscribe } from "./engine";
import { CommittedPositions, Position } from "./committed-positions";
import { idleWatch } from "./batch-idle";

export type { Position } from "./committed-positions";

/** The records of one read of one shard, in order. */
export interface ShardBatch {
  shard: ShardInfo;
  records: KinesisRecord[];
  /** `records[0]`'s place in the order this run read the shard (0 for its first record). */
  firstOrder: number;
  /** The shard's last record handed over before this batch, if any. */
  previous?: Position;
  /** Aborted when the run stops; a batch left unfinished is handed again after a restart. */
  signal: AbortSignal;
}

/** A shard's checkpoint as its consumer sees it. */
export interface ShardCheckpointer {
  /** The state saved with the shard's position: as last saved in this run, else as loaded; undefined when none. */
  readonly state: unknown;
  /**
   * Saves the position after `at` (positions only move forward in read order; none: the position stays) and,
   * when `state` is given, `state.value` as the shard's state, in one save; resolves once saved. Without a
   * checkpoint it does nothing.
   */
  save(at?: Position, state?: { value: unknown }): Promise<void>;
}

/** The engine's settings the batch mode leaves to its caller. */
export type BatchEngineOptions = Omit<SubscribeOptions, "write" | "signal" | "checkpoint" | "idleTimeoutMs" | "readDone" | "shardDone" | "readAgainOnUnknownPosition">;

/** A rejection of any of the consumer's callbacks stops the run, which rejects with it once every batch settled. */
export interface BatchRunOptions {
  eachBatch(batch: ShardBatch, checkpoint: ShardCheckpointer): Promise<void> | void;
  /**
   * The shard is read to its tip: a read brought nothing and was not behind (kinesis-local is never behind,
   * so every empty read). Called in the shard's order, after the batches before it; repeated empty reads
   * while one is waiting count once. @default nothing
   */
  atTip?(shard: ShardInfo, checkpoint: ShardCheckpointer): Promise<void> | void;
  /** The shard was read to its end: called after its last batch; the end is saved only once this resolved. @default nothing */
  shardEnded?(shard: ShardInfo, checkpoint: ShardCheckpointer): Promise<void> | void;
  /**
   * With this, a shard whose saved position the stream does not know is read again from TRIM_HORIZON and its
   * state is dropped (then this is told which and why); without it the run stops. @default stop
   */
  readAgain?(shardId: string, why: string): void;
  /** The store the engine and the checkpointers share, when a checkpoint is in use. */
  positions?: CommittedPositions;
  /** Records of one shard waiting for the consumer at most; the shard's reads wait beyond. */
  maxBufferedRecords: number;
  /**
   * Stop once no record arrived for this long, counted only while no batch is running or waiting and no
   * call is under way (a batch that holds its shard's reads back is not idleness). @default never
   */
  idleTimeoutMs?: number;
  signal: AbortSignal;
}

/** How a batch run ended: stopped by its signal, idle for `idleTimeoutMs`, every shard closed and read. */
export type BatchStopReason = "aborted" | "idle-timeout" | "all-shards-ended";

export interface BatchRunSummary {
  /** Kinesis records handed over, and the batches they came in. */
  records: number;
  batches: number;
  /** Shards read. */
  shards: number;
  durationMs: number;
  /** Throttled calls and other retried failures (backed off and retried). */
  throttles: number;
  retries: number;
  stopReason: BatchStopReason;
}

type Job = { type: "read"; records: KinesisRecord[] } | { type: "tip" } | { type: "end" };

interface ShardState {
  shard: ShardInfo;
  checkpointer: ShardCheckpointer;
  /** Every parent's jobs are done (a child's first job waits for it). */
  ready: Promise<void>;
  /** Jobs waiting for the consumer, oldest first. */
  pending: Job[];
  /** The read being received (the last of `pending`) until the engine says it is done. */
  open?: Job & { type: "read" };
  /** Records in `pending`. */
  queued: number;
  running?: Promise<void>;
  /** Kinesis records of this shard handed over in earlier batches (the place of the next one in read order). */
  handed: number;
  /** The last Kinesis record handed over in an earlier batch. */
  last?: Position;
}

/** Runs the engine with `engine` options and hands its records to `eachBatch`; resolves once every batch settled. */
export async function runShardBatches(client: KinesisSender, streamName: string, engine: BatchEngineOptions, options: BatchRunOptions): Promise<BatchRunSummary> {
  const stop = new AbortController();
  const idle = idleWatch(options.idleTimeoutMs);
  let failure: unknown;
  const fail = (err: unknown) => {
    failure ??= err;
    stop.abort();
  };
  const onCallerAbort = () => stop.abort();
  if (options.signal.aborted) stop.abort();
  else options.signal.addEventListener("abort", onCallerAbort, { once: true });
  const states = new Map<string, ShardState>();
  const counts = { records: 0, batches: 0 };
  const positions = options.positions;
  /** Once true, nothing more is handed over: the caller stopped, or the consumer failed. */
  const halted = () => stop.signal.aborted;

  const run = async (state: ShardState, job: Job) => {
    const { shard, checkpointer } = state;
    if (job.type === "tip") return void (await options.atTip?.(shard, checkpointer));
    if (job.type === "end") {
      await options.shardEnded?.(shard, checkpointer);
      return void (await positions?.allowEnd(shard.id));
    }
    const records = job.records;
    const batch: ShardBatch = { shard, records, firstOrder: state.handed, previous: state.last, signal: stop.signal };
    state.handed += records.length;
    state.last = records.length > 0 ? { sequenceNumber: records[records.length - 1].SequenceNumber ?? "", order: state.handed - 1 } : state.last;
    counts.records += records.length;
    counts.batches += 1;
    await options.eachBatch(batch, checkpointer);
  };
  const runnable = (state: ShardState) => state.pending.length > 0 && state.pending[0] !== state.open && !halted();
  const drain = (state: ShardState) => {
    if (state.running || halted()) return;
    state.running = (async () => {
      await state.ready;
      // The read still being received stays: the engine's readDone closes it and drains again.
      while (runnable(state)) {
        const job = state.pending.shift()!;
        if (job.type === "read") state.queued -= job.records.length;
        await run(state, job);
      }
    })()
      .catch(fail)
      .finally(() => {
        state.running = undefined;
        if (runnable(state)) drain(state);
      });
  };
  /** Resolves once the shard has no job running or waiting (or nothing more will be handed over). */
  const settled = async (state: ShardState | undefined) => {
    while (state && !halted() && (state.running || state.pending.length > 0)) await (state.running ?? new Promise(setImmediate));
  };
  const stateOf = (shard: ShardInfo): ShardState => {
    let state = states.get(shard.id);
    if (!state) {
      const id = shard.id;
      state = {
        shard,
        checkpointer: {
          get state() {
            return positions?.stateOf(id);
          },
          save: async (at, value) => positions?.commit(id, at, value),
        },
        // A child's records come after every record of its parents: its jobs wait until theirs are done.
        ready: Promise.all(shard.parents.map((parent) => settled(states.get(parent)))).then(() => undefined),
        pending: [],
        queued: 0,
        handed: 0,
      };
      states.set(id, state);
    }
    return state;
  };

  const write = async (record: KinesisRecord, shard: ShardInfo): Promise<void> => {
    if (halted()) return;
    const known = states.has(shard.id);
    const state = stateOf(shard);
    if (!known) await state.ready;
    while (!halted() && state.running && state.queued >= options.maxBufferedRecords) await state.running;
    if (halted()) return;
    // The records of one read come one after another; the engine's readDone ends the read: one batch.
    if (!state.open) {
      state.open = { type: "read", records: [] };
      state.pending.push(state.open);
    }
    state.open.records.push(record);
    state.queued += 1;
    idle.active();
  };
  const readDone = (shard: ShardInfo, read: { records: number; behind: boolean }) => {
    if (halted()) return;
    const hasOpen = states.get(shard.id)?.open !== undefined;
    const atTip = read.records === 0 && !read.behind && options.atTip !== undefined;
    if (!hasOpen && !atTip) return;
    const state = stateOf(shard);
    state.open = undefined;
    if (atTip && state.pending[state.pending.length - 1]?.type !== "tip") state.pending.push({ type: "tip" });
    drain(state);
  };
  const shardDone = (shard: ShardInfo) => {
    if (halted()) return;
    if (!options.shardEnded) return void positions?.allowEnd(shard.id).catch(fail);
    const state = stateOf(shard);
    state.open = undefined;
    state.pending.push({ type: "end" });
    drain(state);
  };
  const readAgain = (shardId: string, why: string) => {
    positions?.readAgain(shardId);
    options.readAgain?.(shardId, why);
  };
  const busy = () => [...states.values()].some((state) => state.running !== undefined || state.pending.length > 0);

  let summary;
  try {
    const watching = idle.watch(busy, () => stop.abort());
    summary = await subscribe(idle.counting(client), streamName, {
      ...engine,
      ...(engine.fanOut ? { fanOut: { ...engine.fanOut, client: idle.counting(engine.fanOut.client) } } : {}),
      checkpoint: positions,
      signal: stop.signal,
      write,
      readDone,
      shardDone,
      ...(options.readAgain ? { readAgainOnUnknownPosition: readAgain } : {}),
    });
    idle.stop();
    await watching;
    // Stopped by itself (every shard ended): what is buffered is still handed over.
    for (const state of states.values()) {
      state.open = undefined;
      drain(state);
    }
    await Promise.all([...states.values()].map((state) => settled(state)));
    // The last checkpoints are saved before the run counts as done.
    if (positions && (!halted() || idle.fired)) await positions.flush().catch(fail);
  } catch (err) {
    fail(err);
    await Promise.allSettled([...states.values()].map((state) => state.running));
    throw failure;
  } finally {
    idle.stop();
    options.signal.removeEventListener("abort", onCallerAbort);
  }
  // Jobs still running when the caller stopped finish (they were told by their signal).
  await Promise.allSettled([...states.values()].map((state) => state.running));
  if (failure !== undefined) throw failure;
  return {
    records: counts.records,
    batches: counts.batches,
    shards: summary.shardsRead,
    durationMs: summary.durationMs,
    throttles: summary.throttles,
    retries: summary.retries,
    stopReason: idle.fired ? "idle-timeout" : summary.stopReason === "all-shards-ended" ? "all-shards-ended" : "aborted",
  };
}
