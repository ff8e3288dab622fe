/**
 * The consumer engine's positions (runtime/consumer/engine.ts): per shard its start or the last record
 * written, moved forward only once the caller's write resolved (and, with `holdBackBytes`, once enough
 * output followed it), checked against the stream's first listing, and saved to the run's CheckpointStore
 * (checkpoint.ts) one save at a time.
 */
import { UserError } from "../errors";
import type { CheckpointStore, SavedStart, ShardCheckpoint, ShardCheckpoints } from "./checkpoint";
import { checkpointMisfit, ShardInfo } from "./shards";

export class EnginePositions {
  /** Per shard read (or named by the checkpoint): its start, or the last record written; what is saved. */
  private positions: ShardCheckpoints = {};
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();
  /** Output bytes written so far, and the positions not yet covered by `holdBackBytes` of later output. */
  private outputOffset = 0;
  private readonly unconfirmed: Array<{ endOffset: number; shardId: string; position: ShardCheckpoint }> = [];
  private unconfirmedHead = 0;
  /** The checkpoint was loaded (so the run ends with a final save). */
  loaded = false;
  /** The loaded checkpoint does not fit the stream: it is left as it is. */
  rejected = false;

  constructor(
    private readonly store: CheckpointStore | undefined,
    private readonly streamName: string,
    private readonly holdBackBytes: number,
  ) {}

  async load(): Promise<void> {
    if (!this.store) return;
    this.positions = { ...(await this.store.load(this.streamName)) };
    this.loaded = true;
  }

  get(shardId: string): ShardCheckpoint | undefined {
    return this.positions[shardId];
  }

  /** Remembers a shard's start before its first read: a restart reads the shard from here, not from `from`. */
  setStart(shardId: string, start: SavedStart): void {
    this.positions[shardId] = { start };
    this.dirty = true;
  }

  /** Output bytes the caller's write reported for the record it just took. */
  wrote(bytes: number): void {
    this.outputOffset += bytes;
  }

  /**
   * Moves a shard's saved position forward once the output written after it covers `holdBackBytes`
   * (at once when it is 0). Positions become saveable in output order, so a shard never gets ahead of
   * a record of its own that is still held back.
   */
  advance(shardId: string, position: ShardCheckpoint): void {
    this.unconfirmed.push({ endOffset: this.outputOffset, shardId, position });
    while (this.unconfirmedHead < this.unconfirmed.length && this.unconfirmed[this.unconfirmedHead].endOffset + this.holdBackBytes <= this.outputOffset) {
      const next = this.unconfirmed[this.unconfirmedHead++];
      this.positions[next.shardId] = next.position;
      this.dirty = true;
    }
    // Drop confirmed entries in bulk (amortised O(1) per record).
    if (this.unconfirmedHead > 1024 && this.unconfirmedHead * 2 > this.unconfirmed.length) {
      this.unconfirmed.splice(0, this.unconfirmedHead);
      this.unconfirmedHead = 0;
    }
  }

  /**
   * Checks the loaded checkpoint against the first listing. One that names shards, none of which the stream
   * has, belongs to another stream (an earlier one of the same name) or to shards long trimmed; one that
   * says an open shard ended, or gives a shard a sequence number outside its range, was written for another
   * stream or edited. Reading on would silently skip or re-read records, so by default the run stops and the
   * file is left as it is (the error is returned). With `readAgain`, a shard whose position does not fit is
   * read again from TRIM_HORIZON instead (`readAgain` is told why), and shards the stream lacks are ignored.
   */
  check(listed: Map<string, ShardInfo>, readAgain?: (shardId: string, why: string) => void): UserError | undefined {
    const saved = Object.keys(this.positions);
    if (saved.length === 0) return undefined;
    const where = this.store?.description ?? "the checkpoint";
    const misfits = saved.flatMap((id) => {
      const shard = listed.get(id);
      const why = shard ? checkpointMisfit(this.positions[id], shard) : undefined;
      return why ? [{ id, why }] : [];
    });
    if (readAgain) {
      for (const { id, why } of misfits) {
        this.readAgain(id);
        readAgain(id, `${where} ${why}`);
      }
      return undefined;
    }
    this.rejected = true;
    if (!saved.some((id) => listed.has(id))) {
      const named = saved.length > 3 ? `${saved.slice(0, 3).join(", ")} and ${saved.length - 3} more` : saved.join(", ");
      return new UserError(
        `${where} names none of stream ${this.streamName}'s shards (it names ${named}); it belongs to another stream of that ` +
          `name or to shards past the stream's retention: move it away to read this stream from --from`,
      );
    }
    if (misfits.length > 0) {
      return new UserError(
        `${where} ${misfits[0].why}${misfits.length > 1 ? ` (and ${misfits.length - 1} more shard(s) do not fit)` : ""}; ` +
          `it does not fit stream ${this.streamName}: move it away to read the stream from --from, or delete the entries of those shards to read them from --from`,
      );
    }
    this.rejected = false;
    return undefined;
  }

  /** The shard's saved position is not the stream's: it is read again from its oldest record (saved at the next save). */
  readAgain(shardId: string): void {
    this.positions[shardId] = { start: "trim-horizon" };
    this.dirty = true;
  }

  /** Saves a snapshot of the positions (starts, and records already written); saves never overlap. */
  save(force: boolean): Promise<void> {
    const store = this.store;
    if (!store) return Promise.resolve();
    const next = this.saving.catch(() => undefined).then(async () => {
      if (!this.dirty && !force) return;
      this.dirty = false;
      const snapshot: ShardCheckpoints = JSON.parse(JSON.stringify(this.positions));
      try {
        await store.save(this.streamName, snapshot);
      } catch (err) {
        this.dirty = true;
        throw err;
      }
    });
    this.saving = next;
    return next;
  }
}
