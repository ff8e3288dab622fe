/**
 * Runs a consumer group worker: a lease coordinator and one shard reader per held lease. The reader is
 * the consumer engine's business (polling or enhanced fan-out); this only starts it when a lease is
 * gained, stops it when the lease is lost or handed over, checkpoints a shard's end, and keeps the lease
 * table in step with the stream's shards (new leases after a reshard).
 *
 * A reader is `(lease, context) => Promise<"end" | void>`: read from `lease.checkpoint` (a sequence
 * number, or TRIM_HORIZON / AT_TIMESTAMP / LATEST; pin a LATEST start with `context.pinStart` before the first
 * read), hand records to the processor, call `context.checkpoint` after them,
 * return "end" after the shard's last record (the shard is closed and read), and return as soon as
 * `context.signal` aborts. Its reason says why: "handover" and "stop" (checkpoint first: the lease is still
 * held), or "lost" (another worker holds it; checkpoints are refused, stop at once).
 */
import { LeaseCoordinator, ShardInfo } from "./coordinator";
import { Lease, TRIM_HORIZON } from "./lease";

export type StopReason = "lost" | "handover" | "stop";

export interface ShardContext {
  /** Aborts when the reader must stop; `signal.reason` is a `StopReason`. */
  signal: AbortSignal;
  /** Records progress in the lease row; throws `LeaseLostError` when the lease is gone (stop reading then). */
  checkpoint(sequenceNumber: string, subSequenceNumber?: number): Promise<void>;
  /**
   * For a lease at `LATEST`: records where this reader starts (coordinator.pinStart) before its first read,
   * so that a later owner starts there too; throws as `checkpoint` does.
   */
  pinStart(start: Date | typeof TRIM_HORIZON): Promise<void>;
  /**
   * True while the lease may still be trusted (coordinator.holds): checked before every record is handed
   * on, so a reader never passes on a record once its trust ran out, however late a timer fires on a
   * loaded machine (the "lost" event comes from such a timer).
   */
  holds(): boolean;
}

export type ShardReader = (lease: Lease, context: ShardContext) => Promise<"end" | void>;

export interface GroupOptions {
  coordinator: LeaseCoordinator;
  read: ShardReader;
  /** The stream's shards, to create leases for shards the table lacks. @default none (leases exist) */
  listShards?: () => Promise<ShardInfo[]>;
  /** How often `listShards` runs after the start (and after every shard end). @default 60000 */
  syncIntervalMs?: number;
  /** One line per reader event. @default none */
  log?: (line: string) => void;
}

export interface GroupRun {
  /** Stops every reader (they checkpoint), then releases every lease, so others take over at once. */
  stop(): Promise<void>;
  /** The keys whose readers run now. */
  reading(): string[];
}

export async function runGroup(options: GroupOptions): Promise<GroupRun> {
  const { coordinator, read } = options;
  const log = options.log ?? (() => undefined);
  const readers = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let stopping = false;

  const sync = async () => {
    if (!options.listShards) return;
    try {
      await coordinator.syncShards(await options.listShards());
    } catch (err) {
      log(`shard sync failed: ${(err as Error).message}`);
    }
  };

  const startReader = (lease: Lease) => {
    if (stopping || readers.has(lease.leaseKey)) return;
    const controller = new AbortController();
    const key = lease.leaseKey;
    const context: ShardContext = {
      signal: controller.signal,
      checkpoint: (seq, sub) => coordinator.checkpoint(key, seq, sub),
      pinStart: (start) => coordinator.pinStart(key, start),
      holds: () => coordinator.holds(key),
    };
    const done = (async () => {
      let outcome: "end" | void;
      try {
        outcome = await read(lease, context);
      } catch (err) {
        log(`reader of ${key} failed: ${(err as Error).message}`);
        outcome = undefined;
      }
      readers.delete(key);
      const reason = controller.signal.reason as StopReason | undefined;
      if (reason === "lost" || !coordinator.holds(key)) return;
      try {
        if (outcome === "end") {
          await coordinator.finish(key);
          log(`${key} read to its end`);
          await sync();
          void coordinator.takeRound();
        } else if (reason !== "stop") {
          // Handed over, or the reader failed: give the lease up so it resumes from its checkpoint.
          await coordinator.release(key);
        }
      } catch (err) {
        log(`after the reader of ${key}: ${(err as Error).message}`);
        // Not released, not finished (the table unreachable): held with no reader, the shard would stall. Let
        // it go locally: this worker's next round takes it back (a reader from its checkpoint), or, if this
        // worker is gone by then, it expires for the others.
        if (!stopping && coordinator.holds(key)) coordinator.abandon(key);
      }
    })();
    readers.set(key, { controller, done });
  };

  coordinator.on("acquired", startReader);
  coordinator.on("lost", (key) => readers.get(key)?.controller.abort("lost"));
  coordinator.on("release", (key) => {
    const reader = readers.get(key);
    if (reader) reader.controller.abort("handover");
    else void coordinator.release(key).catch(() => undefined);
  });

  await sync();
  const syncTimer = options.listShards ? setInterval(() => void sync(), options.syncIntervalMs ?? 60_000) : undefined;
  try {
    await coordinator.start();
  } catch (err) {
    // No table (LeaseTableMissingError) or none reachable: nothing may keep the process alive after the error.
    clearInterval(syncTimer);
    await coordinator.stop();
    throw err;
  }

  return {
    reading: () => [...readers.keys()].sort(),
    stop: async () => {
      stopping = true;
      clearInterval(syncTimer);
      const running = [...readers.values()];
      for (const r of running) r.controller.abort("stop");
      await Promise.all(running.map((r) => r.done));
      await coordinator.stop({ release: true });
    },
  };
}
