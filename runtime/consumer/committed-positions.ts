/**
 * The checkpoint of a batch consumer (batches.ts): what the consumer has checkpointed, not what the engine
 * has read. The engine (engine.ts) saves its own positions (the last record handed over, each shard's start,
 * shards read to their end) through this store; the store keeps from them only what the consumer's
 * checkpoints cover, and writes that to the store underneath (the subscriber's file format, so
 * `datalake subscribe --checkpoint` and `datalake lag --checkpoint` read it too).
 *
 * Per shard, what is saved:
 *  - the last record the consumer checkpointed (a checkpoint behind an earlier one, in the order the shard
 *    was read, is ignored: positions only move forward);
 *  - else what the store held when the run began, or the shard's start the engine recorded before its first
 *    read (so a restart neither skips what arrived meanwhile nor goes back to `from`);
 *  - "ended" only once the consumer checkpointed the shard's last record and the batch layer let the end
 *    through (`allowEnd`, after the consumer's own end of the shard): until then a restart reads the shard's
 *    tail again, and its children wait for it, as they did in this run;
 *  - the consumer's per-shard `state` (ShardCheckpoint.state), as last checkpointed with a position, in the
 *    same save as the position.
 * Saves never overlap, and a save that changes nothing is skipped.
 */
import type { CheckpointStore, ShardCheckpoint, ShardCheckpoints } from "./checkpoint";

/** A place a checkpoint can save: a Kinesis record's sequence number and its place in the shard's read order. */
export interface Position {
  sequenceNumber: string;
  order: number;
}

export class CommittedPositions implements CheckpointStore {
  readonly description: string;
  /** What the store held when the run began. */
  private loaded: ShardCheckpoints = {};
  /** The engine's latest positions (the loaded ones until its first save). */
  private engine: ShardCheckpoints = {};
  /** Per shard, the last position that holds no record the consumer has not checkpointed. */
  private safe: ShardCheckpoints = {};
  /** Per shard, the last sequence number checkpointed and its place in the order the shard was read in. */
  private readonly committed = new Map<string, string>();
  private readonly committedAt = new Map<string, number>();
  /** Per shard, the state checkpointed in this run (present with undefined: the state was dropped). */
  private readonly committedState = new Map<string, unknown>();
  /** Shards whose end the batch layer let through. */
  private readonly endsAllowed = new Set<string>();
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

  /** The engine's positions: remembered, and saved as far as the consumer's checkpoints cover them. */
  save(stream: string, shards: ShardCheckpoints): Promise<void> {
    this.stream = stream;
    this.engine = shards;
    for (const [id, position] of Object.entries(shards)) {
      if (!position.sequenceNumber && !position.ended) this.safe[id] = position; // a start: nothing read yet
    }
    return this.persist();
  }

  /**
   * The consumer checkpointed `at`, the Kinesis record at place `order` in the order this run read the shard
   * (sequence numbers "generally increase", the docs say: the read order is exact), and with it, when given,
   * `state.value` as the shard's state. Saved before the promise resolves.
   */
  commit(shardId: string, at: Position | undefined, state?: { value: unknown }): Promise<void> {
    if (at && at.order > (this.committedAt.get(shardId) ?? -1)) {
      this.committed.set(shardId, at.sequenceNumber);
      this.committedAt.set(shardId, at.order);
    }
    if (state) this.committedState.set(shardId, state.value);
    return this.persist();
  }

  /** The shard's state: as last checkpointed in this run, else as loaded. */
  stateOf(shardId: string): unknown {
    return this.committedState.has(shardId) ? this.committedState.get(shardId) : this.loaded[shardId]?.state;
  }

  /** The consumer is done with the shard's end: once its last record is checkpointed, it may be saved as ended. */
  allowEnd(shardId: string): Promise<void> {
    this.endsAllowed.add(shardId);
    return this.persist();
  }

  /** The stream did not know the shard's saved position: it is read again from TRIM_HORIZON, its state dropped. */
  readAgain(shardId: string): void {
    this.committed.delete(shardId);
    this.committedAt.delete(shardId);
    this.committedState.delete(shardId);
    delete this.loaded[shardId];
    this.loaded = { ...this.loaded };
    this.safe[shardId] = { start: "trim-horizon" };
  }

  /** The positions to save: the engine's, cut back to what the consumer's checkpoints cover. */
  positions(): ShardCheckpoints {
    const out: ShardCheckpoints = {};
    for (const id of new Set([...Object.keys(this.engine), ...this.committed.keys(), ...this.committedState.keys()])) {
      const position: ShardCheckpoint = this.engine[id] ?? {};
      const committed = this.committed.get(id);
      const durable = committed ?? this.loaded[id]?.sequenceNumber;
      const endAllowed = this.endsAllowed.has(id) || this.loaded[id]?.ended === true;
      let entry: ShardCheckpoint | undefined;
      if (position.ended && endAllowed && (position.sequenceNumber === undefined || position.sequenceNumber === durable)) entry = position;
      // Ahead of the engine's own save (every 2 s), whose snapshot may still show the shard's start.
      else if (committed !== undefined) entry = { sequenceNumber: committed };
      else if (!position.sequenceNumber && !position.ended) entry = position;
      else entry = this.safe[id];
      if (!entry) continue;
      const { state: _loadedState, ...bare } = entry;
      const state = this.stateOf(id);
      out[id] = state === undefined || bare.ended ? bare : { ...bare, state };
    }
    return out;
  }

  /** Resolves once every save asked for so far is done (and rejects if the last one failed). */
  flush(): Promise<void> {
    return this.persist();
  }

  /** Writes `positions()` unless the store already holds them; one save at a time, the last one wins. */
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
