/**
 * `lake.consume()`: a segment's records handed to the caller's function in batches, each with a
 * checkpointer, the way the Kinesis Client Library hands them to a record processor.
 *
 * A thin layer over the subscriber's engine (`apps/subscriber/subscriber.ts`), which does the reading: every
 * shard, parents read to their end before their children (resharding), new shards found as they appear,
 * polling within the shard's read budget or enhanced fan-out, expired iterators renewed, bounded retries.
 * This layer only groups the engine's records per shard into batches (the records of one read), runs the
 * caller's function on one batch of a shard at a time (the shard's reader waits meanwhile: backpressure),
 * holds a child shard's first batch until its parents' batches are done, unpacks KPL aggregated records, and
 * saves only what the caller checkpointed (`committed-positions.ts`).
 */
import type { _Record } from "@aws-sdk/client-kinesis";
import { deaggregate } from "../model/kpl";
import type { KinesisSender, ShardInfo } from "../runtime/consumer/shards";
import { subscribe, SubscribeOptions, SubscribeSummary } from "../runtime/consumer/engine";
import { CommittedPositions } from "./committed-positions";
import { ConfigurationError } from "./errors";

/** One record as the caller gets it: a user record (a KPL aggregated record is unpacked into its records). */
export interface ConsumedRecord {
  /** The record's bytes (`record.data.toString()` for text). */
  data: Buffer;
  partitionKey: string;
  /** The Kinesis record's sequence number (shared by the user records of one aggregated record). */
  sequenceNumber: string;
  /** The user record's index inside a KPL aggregated record; undefined for a plain record. */
  subSequenceNumber?: number;
  /** When Kinesis accepted the record. */
  arrivedAt?: Date;
}

/** What the caller's `eachBatch` gets: the records of one read of one shard, in order. */
export interface Batch {
  shardId: string;
  records: ConsumedRecord[];
  /**
   * Saves the position after `record` (default: the batch's last record) in the checkpoint file and resolves
   * once it is on disk: a restart with the same checkpoint never hands that record, or an earlier one of this
   * shard, again. Positions only move forward. Without a checkpoint file it does nothing.
   * @default the batch's last record
   */
  checkpoint(record?: ConsumedRecord): Promise<void>;
  /** Aborted when the consumer stops; a batch left unfinished is handed again after a restart. */
  signal: AbortSignal;
}

/** How a consume run ended: stopped by its signal, idle for `idleTimeoutMs`, every shard closed and read. */
export type ConsumeStopReason = "aborted" | "idle-timeout" | "all-shards-ended";

export interface ConsumeSummary {
  /** Records handed to `eachBatch` (user records) and the batches they came in. */
  records: number;
  batches: number;
  /** Shards read. */
  shards: number;
  durationMs: number;
  /** Throttled calls and other retried failures (backed off and retried). */
  throttles: number;
  retries: number;
  stopReason: ConsumeStopReason;
}

/** The engine's settings this layer sets, plus its own. */
export interface BatchRunOptions {
  eachBatch(batch: Batch): Promise<void> | void;
  /** Checkpoint after each batch the function finished. @default true */
  autoCheckpoint: boolean;
  /** The store the engine and the checkpointer share, when a checkpoint file is in use. */
  positions?: CommittedPositions;
  /** Records (Kinesis records) of one shard waiting for the function at most; the shard's reads wait beyond. */
  maxBufferedRecords: number;
  /**
   * Stop once no record arrived for this long, counted only while no batch is running or waiting and no
   * call is under way (a batch that holds its shard's reads back is not idleness). @default never
   */
  idleTimeoutMs?: number;
  signal: AbortSignal;
}

/** `eachBatch` rejected (with `error`, the caller's own): the run stops and `consume` rejects with `error`. */
export class BatchFailed {
  constructor(readonly error: unknown) {}
}

interface ShardState {
  shard: ShardInfo;
  /** Reads waiting for the function, oldest first: one batch each. */
  pending: _Record[][];
  /** The read being received in this turn of the event loop, if any. */
  open?: _Record[];
  /** Records in `pending`. */
  queued: number;
  running?: Promise<void>;
  /** Kinesis records of this shard handed over in earlier batches (the place of the next one in read order). */
  handed: number;
  /** The last Kinesis record handed over in an earlier batch. */
  last?: Position;
}

/** Runs the engine with `engine` options and hands its records to `eachBatch`; resolves once every batch settled. */
export async function runBatches(
  client: KinesisSender,
  streamName: string,
  engine: Omit<SubscribeOptions, "write" | "signal" | "checkpoint" | "idleTimeoutMs">,
  options: BatchRunOptions,
): Promise<ConsumeSummary> {
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
  /** Once true, no new batch is handed over: the caller stopped, or a batch failed. */
  const halted = () => stop.signal.aborted;

  const handle = async (state: ShardState, records: _Record[]) => {
    const { batch, last } = toBatch(state, records, options, stop.signal);
    state.handed += records.length;
    state.last = last;
    counts.records += batch.records.length;
    counts.batches += 1;
    try {
      await options.eachBatch(batch);
    } catch (err) {
      throw new BatchFailed(err);
    }
    if (options.autoCheckpoint && last) await options.positions?.commit(state.shard.id, last.sequenceNumber, last.order);
  };
  const drain = (state: ShardState) => {
    if (state.running || halted()) return;
    state.running = (async () => {
      // The read still being received stays: its setImmediate closes it and drains again.
      while (state.pending.length > 0 && state.pending[0] !== state.open && !halted()) {
        const records = state.pending.shift()!;
        state.queued -= records.length;
        await handle(state, records);
      }
    })()
      .catch(fail)
      .finally(() => {
        state.running = undefined;
        if (state.pending.length > 0 && state.pending[0] !== state.open && !halted()) drain(state);
      });
  };
  /** Resolves once the shard has no batch running or waiting (or nothing more will be handed over). */
  const settled = async (state: ShardState | undefined) => {
    while (state && !halted() && (state.running || state.pending.length > 0)) await (state.running ?? new Promise(setImmediate));
  };

  const write = async (record: _Record, shard: ShardInfo): Promise<void> => {
    if (halted()) return;
    let state = states.get(shard.id);
    if (!state) {
      state = { shard, pending: [], queued: 0, handed: 0 };
      states.set(shard.id, state);
      // A child's records come after every record of its parents: wait until their batches are done.
      await Promise.all(shard.parents.map((parent) => settled(states.get(parent))));
    }
    while (!halted() && state.running && state.queued >= options.maxBufferedRecords) await state.running;
    if (halted()) return;
    // The engine hands over the records of one read one after another, waiting for nothing else: a read is
    // what arrives before the next turn of the event loop, and it becomes one batch.
    if (!state.open) {
      const read: _Record[] = [];
      state.open = read;
      state.pending.push(read);
      setImmediate(() => {
        state!.open = undefined;
        drain(state!);
      });
    }
    state.open.push(record);
    state.queued += 1;
    idle.active();
  };
  const busy = () => [...states.values()].some((state) => state.running !== undefined || state.pending.length > 0);

  let summary: SubscribeSummary;
  try {
    const watching = idle.watch(busy, () => stop.abort());
    summary = await subscribe(idle.counting(client), streamName, {
      ...engine,
      ...(engine.fanOut ? { fanOut: { ...engine.fanOut, client: idle.counting(engine.fanOut.client) } } : {}),
      checkpoint: options.positions,
      signal: stop.signal,
      write,
    });
    idle.stop();
    await watching;
    // Stopped by itself (every shard ended): what is buffered is still handed over.
    await Promise.all([...states.values()].map((state) => settled(state)));
    // The last checkpoints are on disk before the run counts as done.
    if (options.positions && (!halted() || idle.fired)) await options.positions.flush().catch(fail);
  } catch (err) {
    fail(err);
    await Promise.allSettled([...states.values()].map((state) => state.running));
    throw failure;
  } finally {
    idle.stop();
    options.signal.removeEventListener("abort", onCallerAbort);
  }
  // Batches still running when the caller stopped finish (they were told by their signal).
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

/**
 * `idleTimeoutMs` for the batch layer: time without a record counts only while nothing is under way: no
 * batch running or waiting, no Kinesis call in flight (a slow read may still bring records). The engine's
 * own idle timeout cannot see that a batch holds a shard's reads back.
 */
function idleWatch(idleTimeoutMs: number | undefined) {
  let lastActive = Date.now();
  let calls = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  const watch = {
    fired: false,
    active(): void {
      lastActive = Date.now();
    },
    /** The client, with the calls under way counted. */
    counting(client: KinesisSender): KinesisSender {
      if (idleTimeoutMs === undefined) return client;
      return {
        send: (command: unknown, options?: { abortSignal?: AbortSignal }) => {
          calls += 1;
          return client.send(command, options).finally(() => {
            calls -= 1;
          });
        },
      };
    },
    async watch(busy: () => boolean, onIdle: () => void): Promise<void> {
      if (idleTimeoutMs === undefined) return;
      while (!stopped) {
        if (busy()) lastActive = Date.now();
        const left = lastActive + idleTimeoutMs - Date.now();
        // Time is up, but a call is under way: its records (if any) would count as arrivals. Wait for a
        // moment with none in flight (a reader at the tip pauses between its calls).
        if (left <= 0 && calls === 0) {
          watch.fired = true;
          onIdle();
          return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, left > 0 ? Math.min(left, 100) : 10).unref();
        });
      }
    },
    stop(): void {
      stopped = true;
      wake?.();
    },
  };
  return watch;
}

/** A place a checkpoint can save: a Kinesis record's sequence number and its place in the shard's read order. */
interface Position {
  sequenceNumber: string;
  order: number;
}

/**
 * The caller's batch of a shard's records: KPL aggregated records unpacked, and for each user record the
 * position a checkpoint at it may save: its Kinesis record when it is that record's last user record, else
 * the Kinesis record before (all user records of an aggregated record share its sequence number, and a
 * restart reads a Kinesis record again whole).
 */
function toBatch(state: ShardState, records: _Record[], options: BatchRunOptions, signal: AbortSignal) {
  const out: ConsumedRecord[] = [];
  const safeAt = new Map<ConsumedRecord, Position | undefined>();
  let previous = state.last;
  records.forEach((record, k) => {
    const position: Position = { sequenceNumber: record.SequenceNumber ?? "", order: state.handed + k };
    const data = record.Data ?? new Uint8Array();
    const users = deaggregate({ partitionKey: record.PartitionKey ?? "", data });
    const aggregated = users.length !== 1 || users[0].data !== data;
    users.forEach((user, i) => {
      const consumed: ConsumedRecord = {
        data: Buffer.from(user.data.buffer, user.data.byteOffset, user.data.byteLength),
        partitionKey: user.partitionKey,
        sequenceNumber: position.sequenceNumber,
        ...(aggregated ? { subSequenceNumber: i } : {}),
        ...(record.ApproximateArrivalTimestamp ? { arrivedAt: record.ApproximateArrivalTimestamp } : {}),
      };
      out.push(consumed);
      safeAt.set(consumed, i === users.length - 1 ? position : previous);
    });
    previous = position;
  });
  const last = previous;
  const batch: Batch = {
    shardId: state.shard.id,
    records: out,
    signal,
    checkpoint: async (record?: ConsumedRecord) => {
      if (record !== undefined && !safeAt.has(record)) {
        throw new ConfigurationError(`checkpoint(record) of shard ${state.shard.id}: the record is not one of this batch's records; pass one of batch.records`);
      }
      const at = record === undefined ? last : safeAt.get(record);
      if (at) await options.positions?.commit(state.shard.id, at.sequenceNumber, at.order);
    },
  };
  return { batch, last };
}
