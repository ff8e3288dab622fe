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
import { Lease, LATEST, SHARD_END, TRIM_HORIZON } from "./lease";
import { LeaseLostError } from "./table";

/** The engine options a group worker passes through (everything but what the lease decides). */
export type EngineReaderOptions = Omit<SubscribeOptions, "from" | "checkpoint" | "signal" | "onlyShards" | "max" | "idleTimeoutMs">;

/** The lease's checkpoint as the engine's saved position of that shard (none: LATEST, read from the tip). */
export function leasePosition(lease: Lease): ShardCheckpoints {
  const cp = lease.checkpoint;
  if (cp === LATEST) return {};
  if (cp === TRIM_HORIZON) return { [lease.leaseKey]: { start: "trim-horizon" } };
  if (cp === SHARD_END) return { [lease.leaseKey]: { ended: true } };
  return { [lease.leaseKey]: { sequenceNumber: cp } };
}

/**
 * A CheckpointStore over one lease: `load` gives the lease's checkpoint, `save` writes the shard's newest
 * sequence number into the lease row (only when it moved). A refused checkpoint (LeaseLostError: another
 * worker holds the lease) calls `onLost` and is not an error of the run: the engine stops, nothing more is
 * written. Starts (no record yet) are not written: the row already says TRIM_HORIZON or LATEST.
 */
export class LeaseCheckpointStore implements CheckpointStore {
  readonly description: string;
  private saved: string | undefined;
  lost = false;

  constructor(
    private readonly lease: Lease,
    private readonly context: ShardContext,
    private readonly onLost: (err: LeaseLostError) => void,
  ) {
    this.description = `the lease of ${lease.leaseKey}`;
    const cp = lease.checkpoint;
    this.saved = cp === LATEST || cp === TRIM_HORIZON || cp === SHARD_END ? undefined : cp;
  }

  async load(): Promise<ShardCheckpoints> {
    return leasePosition(this.lease);
  }

  async save(_stream: string, shards: ShardCheckpoints): Promise<void> {
    const seq = shards[this.lease.leaseKey]?.sequenceNumber;
    if (this.lost || seq === undefined || seq === this.saved) return;
    // A lost lease is somebody else's: its row must not be written (the coordinator refuses it anyway).
    if (this.context.signal.reason === "lost") return;
    try {
      await this.context.checkpoint(seq);
      this.saved = seq;
    } catch (err) {
      if (!(err instanceof LeaseLostError)) throw err;
      this.lost = true;
      this.onLost(err);
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
    const store = new LeaseCheckpointStore(lease, context, (err) => {
      log(`${lease.leaseKey}: checkpoint refused (${err.message}); stopping this shard`);
      lost.abort();
    });
    const summary = await subscribe(client, stream, {
      ...options,
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
