/**
 * A consumer group's shard reader (group.ts's `ShardReader`) made of the consumer engine: one engine per
 * leased shard (`onlyShards`), started from the lease's checkpoint, saving its position into the lease row
 * (`context.checkpoint`), stopped when the lease is lost, handed over or the worker stops. Every other rule
 * (read limits, polling or enhanced fan-out, retries, `write` order and backpressure) is the engine's.
 */
import { subscribe } from "../consumer/engine";
import type { SubscribeOptions } from "../consumer/engine-options";
import type { CheckpointStore, ShardCheckpoints } from "../consumer/checkpoint";
import type { KinesisSender } from "../consumer/shards";
import type { ShardContext, ShardReader } from "./group";
import { AT_TIMESTAMP, Lease, LATEST, SHARD_END, TRIM_HORIZON } from "./lease";
import { LeaseLostError } from "./table";

/** The engine options a group worker passes through (everything but what the lease decides). */
export type EngineReaderOptions = Omit<SubscribeOptions, "from" | "checkpoint" | "signal" | "onlyShards" | "max" | "idleTimeoutMs">;

/**
 * The lease's checkpoint as the engine's saved position of that shard (none: LATEST, read from the tip).
 * AT_TIMESTAMP is the start its first reader pinned; one without a time (not written by this coordinator)
 * reads from TRIM_HORIZON, which re-reads rather than skips.
 */
export function leasePosition(lease: Lease): ShardCheckpoints {
  const cp = lease.checkpoint;
  if (cp === LATEST) return {};
  if (cp === TRIM_HORIZON) return { [lease.leaseKey]: { start: "trim-horizon" } };
  if (cp === AT_TIMESTAMP) {
    const at = lease.checkpointTimestamp;
    return { [lease.leaseKey]: { start: at !== undefined && Number.isFinite(at) ? { atTimestamp: new Date(at).toISOString() } : "trim-horizon" } };
  }
  if (cp === SHARD_END) return { [lease.leaseKey]: { ended: true } };
  return { [lease.leaseKey]: { sequenceNumber: cp } };
}

/**
 * A CheckpointStore over one lease: `load` gives the lease's checkpoint, `save` writes the shard's newest
 * sequence number into the lease row (only when it moved). A lease at LATEST first gets the start the
 * engine saves before its first read (LATEST pinned to AT_TIMESTAMP of the run's start), written before
 * that read: a later owner starts there too, never at a newer tip (a pin that fails stops the reader).
 * A refused checkpoint (LeaseLostError: another worker holds the lease) calls `onLost` and is not an error
 * of the run: the engine stops, nothing more is written. Any other failure to write a record's position
 * (the table unreachable) is logged and the reader goes on: the lease is still trusted (the coordinator
 * drops it when it is not), and the next save writes the position again.
 */
export class LeaseCheckpointStore implements CheckpointStore {
  readonly description: string;
  private saved: string | undefined;
  /** The row names a fixed start or a record (not LATEST). */
  private pinned: boolean;
  lost = false;

  constructor(
    private readonly lease: Lease,
    private readonly context: ShardContext,
    private readonly onLost: (err: LeaseLostError) => void,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.description = `the lease of ${lease.leaseKey}`;
    const cp = lease.checkpoint;
    this.saved = cp === LATEST || cp === TRIM_HORIZON || cp === AT_TIMESTAMP || cp === SHARD_END ? undefined : cp;
    this.pinned = cp !== LATEST;
  }

  async load(): Promise<ShardCheckpoints> {
    return leasePosition(this.lease);
  }

  async save(_stream: string, shards: ShardCheckpoints): Promise<void> {
    const position = shards[this.lease.leaseKey];
    if (this.lost || position === undefined) return;
    // A lost lease is somebody else's: its row must not be written (the coordinator refuses it anyway).
    if (this.context.signal.reason === "lost") return;
    const seq = position.sequenceNumber;
    try {
      if (seq === undefined) {
        if (this.pinned || position.start === undefined) return;
        await this.context.pinStart(position.start === "trim-horizon" ? TRIM_HORIZON : new Date(position.start.atTimestamp));
        this.pinned = true;
        return;
      }
      if (seq === this.saved) return;
      await this.context.checkpoint(seq);
      this.saved = seq;
      this.pinned = true;
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.lost = true;
        this.onLost(err);
        return;
      }
      // Without its pin, a LATEST reader must not read: a later owner would start at a newer tip.
      if (seq === undefined) throw err;
      this.log(`${this.lease.leaseKey}: checkpoint ${seq} not written (${(err as Error).message}); reading on, the next checkpoint tries again`);
    }
  }
}

/**
 * The shard reader: `client` and `stream` as for `subscribe`; `options` apply to every shard's engine
 * (`write` is called concurrently for different shards, as the engine does for one stream).
 */
export function engineShardReader(client: KinesisSender, stream: string, options: EngineReaderOptions): ShardReader {
  const log = options.log ?? (() => undefined);
  return async (lease, context) => {
    const lost = new AbortController();
    const store = new LeaseCheckpointStore(
      lease,
      context,
      (err) => {
        log(`${lease.leaseKey}: checkpoint refused (${err.message}); stopping this shard`);
        lost.abort();
      },
      log,
    );
    const write = options.write;
    const summary = await subscribe(client, stream, {
      ...options,
      // Fencing at the record: once the lease's trust has run out (no renewal in time), nothing more is
      // handed on and nothing more checkpointed, even before the coordinator's timer says so.
      write: (record, shard) => {
        if (!context.holds()) {
          store.lost = true;
          lost.abort();
          return 0;
        }
        return write(record, shard);
      },
      // LATEST only applies to a lease nobody has read; a checkpoint or a start wins over `from`.
      from: { type: "latest" },
      checkpoint: store,
      onlyShards: [lease.leaseKey],
      signal: AbortSignal.any([context.signal, lost.signal]),
    });
    if (store.lost) return undefined;
    return summary.stopReason === "all-shards-ended" ? "end" : undefined;
  };
}
