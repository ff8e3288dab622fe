/**
 * The checkpoint of a library consumer: what the caller's function has checkpointed, not what the
 * subscriber's engine has read. The engine (apps/subscriber/subscriber.ts) saves its own positions (the last
 * record handed over, each shard's start, shards read to their end) through this store; the store keeps
 * from them only what the caller's checkpoints cover, and writes that to the file (the subscriber's file
 * format, so `datalake subscribe --checkpoint` and `datalake lag --checkpoint` read it too).
 *
 * Per shard, what is saved:
 *  - the last record the caller checkpointed (a checkpoint behind an earlier one, in the order the shard was
 *    read, is ignored: positions only move forward);
 *  - else what the file held when the run began, or the shard's start the engine recorded before its first
 *    read (so a restart neither skips what arrived meanwhile nor goes back to `from`);
 *  - "ended" only once the caller checkpointed the shard's last record: until then a restart reads the
 *    shard's tail again, and its children wait for it, as they did in this run.
 * Saves never overlap, and a save that changes nothing is skipped.
 */
import type { CheckpointStore, ShardCheckpoint, ShardCheckpoints } from "../runtime/consumer/checkpoint";

export class CommittedPositions implements CheckpointStore {
  readonly description: string;
  /** What the file held when the run began. */
  private loaded: ShardCheckpoints = {};
  /** The engine's latest positions (the loaded ones until its first save). */
  private engine: ShardCheckpoints = {};
  /** Per shard, the last position that holds no record the caller has not checkpointed. */
  private safe: ShardCheckpoints = {};
  /** Per shard, the last sequence number checkpointed and its place in the order the shard was read in. */
  private readonly committed = new Map<string, string>();
  private readonly committedAt = new Map<string, number>();
  private stream = "";
  private lastWritten?: string;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly inner: CheckpointStore) {
    this.description = inner.description;
  }

  async load(stream: string): Promise<ShardCheckpoints> {
    this.stream = stream;
    this.loaded = await this.inner.load(stream);
    this.engine = this.loaded;
    this.safe = { ...this.loaded };
    this.lastWritten = JSON.stringify(this.loaded);
    return this.loaded;
  }

  /** The engine's positions: remembered, and saved as far as the caller's checkpoints cover them. */
  save(stream: string, shards: ShardCheckpoints): Promise<void> {
    this.stream = stream;
    this.engine = shards;
    for (const [id, position] of Object.entries(shards)) {
      if (!position.sequenceNumber && !position.ended) this.safe[id] = position; // a start: nothing read yet
    }
    return this.persist();
  }

  /**
   * The caller checkpointed `sequenceNumber` of `shardId`, the Kinesis record at place `order` in the order
   * this run read the shard (sequence numbers "generally increase", the docs say: the read order is exact).
   * Saved before the promise resolves.
   */
  commit(shardId: string, sequenceNumber: string, order: number): Promise<void> {
    if (order > (this.committedAt.get(shardId) ?? -1)) {
      this.committed.set(shardId, sequenceNumber);
      this.committedAt.set(shardId, order);
    }
    return this.persist();
  }

  /** The positions to save: the engine's, cut back to what the caller's checkpoints cover. */
  positions(): ShardCheckpoints {
    const out: ShardCheckpoints = {};
    for (const id of new Set([...Object.keys(this.engine), ...this.committed.keys()])) {
      const position: ShardCheckpoint = this.engine[id] ?? {};
      const committed = this.committed.get(id);
      const durable = committed ?? this.loaded[id]?.sequenceNumber;
      let entry: ShardCheckpoint | undefined;
      if (position.ended && (position.sequenceNumber === undefined || position.sequenceNumber === durable)) entry = position;
      // Ahead of the engine's own save (every 2 s), whose snapshot may still show the shard's start.
      else if (committed !== undefined) entry = { sequenceNumber: committed };
      else if (!position.sequenceNumber && !position.ended) entry = position;
      else entry = this.safe[id];
      if (entry) out[id] = entry;
    }
    return out;
  }

  /** Resolves once every save asked for so far is done (and rejects if the last one failed). */
  flush(): Promise<void> {
    return this.persist();
  }

  /** Writes `positions()` unless the file already holds them; one save at a time, the last one wins. */
  private persist(): Promise<void> {
    const next = this.saving
      .catch(() => undefined)
      .then(async () => {
        const shards = this.positions();
        const text = JSON.stringify(shards);
        if (text === this.lastWritten) return;
        await this.inner.save(this.stream, shards);
        this.lastWritten = text;
      });
    this.saving = next;
    return next;
  }
}
