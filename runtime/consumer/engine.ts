/**
 * The consumer engine, under every user of a stream (the subscriber, the local wire-tap, replay's and
 * lag's reads, consumer groups, and through its batch mode batches.ts the library's consume and the local
 * lake's route processors): reads every shard of a stream concurrently, parents before
 * children, within the per-shard read limits, through polling (polling-reader.ts) or enhanced fan-out
 * (fan-out-reader.ts), and hands each record to `write` in shard order; positions go to a
 * CheckpointStore (checkpoint.ts) only once the caller's write resolved.
 *
 * This file lists the shards (again every `relistIntervalMs`, and when a shard ends), starts a reader on
 * each shard whose parents are read, and runs the loops that save the checkpoint and watch for idleness;
 * the positions and their saving are engine-positions.ts, the retry rule retrying.ts.
 */
import { setMaxListeners } from "events";
import { Clock, realClock } from "../backoff";
import { readShard } from "./polling-reader";
import { readShardFanOut } from "./fan-out-reader";
import { EnginePositions } from "./engine-positions";
import { retrying } from "./retrying";
import { describePosition, KinesisSender, listShards, parentsFinished, ShardInfo, StartFrom, startPosition, toSavedStart } from "./shards";

export type { FanOut, KinesisRecord, StopReason, SubscribeOptions, SubscribeSummary } from "./engine-options";
export type { StartFrom } from "./shards";
import type { KinesisRecord, StopReason, SubscribeOptions, SubscribeSummary } from "./engine-options";
import type { ShardReaderContext } from "./reader-context";

/** Wakes every waiter once per notify(). */
class Signal {
  private waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

export { GaveUpError } from "./retrying";

export function subscribe(client: KinesisSender, streamName: string, options: SubscribeOptions): Promise<SubscribeSummary> {
  return new Subscription(client, streamName, options).run();
}

/** One run of the engine: the shards it lists and schedules, its loops, and what its shard readers share (reader-context.ts). */
export class Subscription implements ShardReaderContext {
  readonly from: StartFrom;
  readonly log: (line: string) => void;
  readonly stopSignal: AbortSignal;
  readonly clock: Clock;
  readonly counts = { records: 0, bytes: 0, throttles: 0, retries: 0 };
  private readonly stopController = new AbortController();
  private stopReason?: StopReason;
  private failure?: unknown;
  private stoppedResolve!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.stoppedResolve = resolve));
  private listed = new Map<string, ShardInfo>();
  private firstListing?: Set<string>;
  private readonly running = new Set<string>();
  /** Every shard a reader was started on, as it was listed then (handed to `write` with each record). */
  private readonly started = new Map<string, ShardInfo>();
  private readonly finished = new Set<string>();
  private readonly readers: Promise<void>[] = [];
  /** Per shard read (or named by the checkpoint): its start, or the last record written; what is saved. */
  private readonly positions: EnginePositions;
  /** When run() began: `latest` is pinned to it for starting over (expired iterator, restart). */
  private startedAt = new Date();
  private claimed = 0;
  private lastRecordAt = 0;
  /** Kinesis calls under way: --idle-timeout never stops the run while one may still bring records. */
  private inFlight = 0;
  private readonly callsSettled = new Signal();
  private relisting?: Promise<void>;
  private relistAgain = false;

  constructor(
    readonly client: KinesisSender,
    readonly streamName: string,
    readonly options: SubscribeOptions,
  ) {
    this.from = options.from ?? { type: "latest" };
    this.log = options.log ?? (() => undefined);
    this.stopSignal = this.stopController.signal;
    // Every shard's reader waits on this one signal (a pacing sleep and a call in flight, each listening
    // until it ends), plus the run's loops: more than Node's default 10 listeners once a stream has 4
    // shards, which is the design and not a leak; every wait removes its listener when it ends.
    setMaxListeners(0, this.stopSignal);
    this.clock = options.clock ?? realClock;
    this.lastRecordAt = this.clock.now();
    this.positions = new EnginePositions(options.checkpoint, streamName, options.holdBackBytes ?? 0);
  }

  get stopping(): boolean {
    return this.stopReason !== undefined;
  }

  stop(reason: StopReason, error?: unknown): void {
    if (error !== undefined) this.failure ??= error;
    if (this.stopReason) return;
    this.stopReason = error !== undefined ? "error" : reason;
    this.stopController.abort();
    this.stoppedResolve();
  }

  async run(): Promise<SubscribeSummary> {
    const startedAt = this.clock.now();
    this.startedAt = new Date(); // wall time: `latest` is saved as a real moment
    const onAbort = () => this.stop("aborted");
    if (this.options.signal?.aborted) onAbort();
    this.options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await this.positions.load();
      this.lastRecordAt = this.clock.now();
      await this.relist();
      // Idle time counts from when the readers start (listing a slow stream is not idleness), and only
      // once they had their turn to start their first calls.
      this.lastRecordAt = this.clock.now();
      await new Promise((resolve) => setImmediate(resolve));
      const loops = [this.relistLoop(), this.checkpointLoop(), this.idleLoop()];
      await this.stopped;
      await Promise.allSettled(this.readers);
      await Promise.allSettled(loops);
    } catch (err) {
      this.stop("error", err);
    } finally {
      this.options.signal?.removeEventListener("abort", onAbort);
      // A failed final save is the run's failure whatever stopped it: the caller must not claim it was saved.
      if (this.positions.loaded && !this.positions.rejected) {
        await this.positions.save(true).catch((err) => {
          this.stop("error", err);
          this.failure = err;
        });
      }
    }
    if (this.failure !== undefined) throw this.failure;
    return {
      ...this.counts,
      shardsRead: this.readers.length,
      durationMs: this.clock.now() - startedAt,
      stopReason: this.stopReason ?? "error",
    };
  }

  /** Runs a call with the engine's bounded retries (retrying.ts); undefined when the run stopped meanwhile. */
  retrying<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    return retrying(this, what, call);
  }

  /**
   * For a shard the latest ListShards reports closed: its children in that listing (possibly none). Undefined
   * while the shard is open (or not listed).
   */
  closedShardChildren(shardId: string): ShardInfo[] | undefined {
    const shard = this.listed.get(shardId);
    if (!shard?.closed) return undefined;
    return [...this.listed.values()].filter((s) => s.parents.includes(shardId));
  }

  /** Records arrived (pushed by a subscription): idle time starts again. */
  arrived(): void {
    this.lastRecordAt = this.clock.now();
  }

  /** Runs a read (GetShardIterator, GetRecords) that may bring records: --idle-timeout waits for it. */
  async reading<T extends { Records?: unknown[] }>(send: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    try {
      const out = await send();
      // Records arrived: idle time starts again now, not only once they are written.
      if (out.Records?.length) this.lastRecordAt = this.clock.now();
      return out;
    } finally {
      if (--this.inFlight === 0) this.callsSettled.notify();
    }
  }

  /** The shard as listed when its reader started (what `write` and the hooks are given). */
  private shardOf(shardId: string): ShardInfo {
    return this.started.get(shardId) ?? { id: shardId, parents: [], closed: false };
  }

  /**
   * Writes one record unless stopping or `max` is reached; records its position only after `write`
   * resolved. False when the reader must stop.
   */
  async deliver(shardId: string, record: KinesisRecord): Promise<boolean> {
    const max = this.options.max;
    if (this.stopping) return false;
    if (max !== undefined && this.claimed >= max) {
      this.stop("max");
      return false;
    }
    this.claimed += 1;
    let written: number | void;
    try {
      written = await this.options.write(record, this.shardOf(shardId));
    } catch (err) {
      this.stop("error", err);
      return false;
    }
    this.counts.records += 1;
    this.counts.bytes += record.Data?.length ?? 0;
    this.lastRecordAt = this.clock.now();
    this.positions.wrote(typeof written === "number" ? written : 0);
    this.positions.advance(shardId, { sequenceNumber: record.SequenceNumber });
    if (max !== undefined && this.counts.records >= max) this.stop("max");
    return true;
  }

  readDone(shardId: string, records: number, behind: boolean): void {
    if (!this.stopping) this.options.readDone?.(this.shardOf(shardId), { records, behind });
  }

  unknownPosition(shardId: string, why: string): boolean {
    if (!this.options.readAgainOnUnknownPosition || this.stopping) return false;
    this.positions.readAgain(shardId);
    this.readingAgain(shardId, why);
    this.positions.save(false).catch((err) => this.stop("error", err));
    return true;
  }

  private readingAgain(shardId: string, why: string): void {
    this.log(`shard ${shardId}: ${why}; reading it again from TRIM_HORIZON`);
    this.options.readAgainOnUnknownPosition?.(shardId, why);
  }

  /** A reader read its shard to the end: remember that, start its children, look for new shards. */
  shardEnded(shardId: string, lastSequenceNumber: string | undefined, children: ShardInfo[]): void {
    this.positions.advance(shardId, lastSequenceNumber ? { sequenceNumber: lastSequenceNumber, ended: true } : { ended: true });
    this.finished.add(shardId);
    this.options.shardDone?.(this.shardOf(shardId));
    this.log(`shard ${shardId}: read to its end${children.length ? `; children ${children.map((c) => c.id).join(", ")}` : ""}`);
    for (const child of children) if (!this.listed.has(child.id)) this.listed.set(child.id, child);
    this.schedule(false);
    this.relist().catch((err) => this.stop("error", err));
  }

  /** Lists the shards again (one listing at a time; a request during a listing runs one more). */
  private relist(): Promise<void> {
    if (this.relisting) {
      this.relistAgain = true;
      return this.relisting;
    }
    this.relisting = (async () => {
      try {
        do {
          this.relistAgain = false;
          const shards = await this.retrying("ListShards", () => listShards(this.client, this.streamName, this.stopSignal));
          if (!shards) return;
          this.listed = new Map(shards.map((s) => [s.id, s]));
          if (!this.firstListing) {
            this.firstListing = new Set(this.listed.keys());
            const misfit = this.positions.check(this.listed, this.options.readAgainOnUnknownPosition && ((id, why) => this.readingAgain(id, why)));
            if (misfit) this.stop("error", misfit);
            if (this.stopping) return;
          }
          // Only a listing with no newer request pending may conclude that every shard has ended.
          this.schedule(!this.relistAgain);
        } while (this.relistAgain && !this.stopping);
      } finally {
        this.relisting = undefined; // synchronously with the last check of relistAgain
      }
    })();
    return this.relisting;
  }

  /**
   * Starts a reader on every listed shard whose parents are finished; optionally stops when every shard ended.
   * A shard's start is decided only then, as it depends on whether a parent was read.
   */
  private schedule(mayConclude: boolean): void {
    const only = this.options.onlyShards ? new Set(this.options.onlyShards) : undefined;
    const mine = (id: string) => !only || only.has(id);
    // Shards outside `onlyShards` are somebody else's: never pending, so they hold back none of ours.
    const isPending = (id: string) => mine(id) && !this.finished.has(id) && (this.listed.has(id) || this.running.has(id));
    let persisted: Promise<void> | undefined;
    for (let changed = true; changed && !this.stopping; ) {
      changed = false;
      for (const shard of this.listed.values()) {
        if (!mine(shard.id) || this.running.has(shard.id) || this.finished.has(shard.id)) continue;
        if (!parentsFinished(shard, isPending)) continue;
        const saved = this.positions.get(shard.id);
        const start = startPosition(shard, this.from, saved, {
          startedAt: this.startedAt,
          inFirstListing: this.firstListing?.has(shard.id) ?? true,
          parentRead: shard.parents.some((parent) => this.positions.get(parent) !== undefined),
        });
        if (start === "skip") {
          this.finished.add(shard.id);
          changed = true;
          continue;
        }
        this.running.add(shard.id);
        this.started.set(shard.id, shard);
        let note = "";
        if (!saved && start.origin.type !== "AFTER_SEQUENCE_NUMBER") {
          // Remember the start before the first read: a restart reads this shard from here, not from `from`.
          this.positions.setStart(shard.id, toSavedStart(start.origin));
          // One save for every shard started in this call: the snapshot is taken after it returns.
          persisted ??= this.positions.save(false);
          if (this.options.checkpoint) {
            note = ` (no checkpoint for this shard${start.first.type === "LATEST" ? `; saved as ${describePosition(start.origin)}` : ""})`;
          }
        } else if (this.options.checkpoint && !saved?.sequenceNumber) {
          note = " (the checkpoint's start: no record of this shard written yet)";
        }
        this.log(`shard ${shard.id}: reading from ${describePosition(start.first)}${note}`);
        const reader = (persisted ?? Promise.resolve())
          .then(() => (this.options.fanOut ? readShardFanOut(this, this.options.fanOut, shard, start) : readShard(this, shard, start)))
          .catch((err) => this.stop("error", err))
          .finally(() => this.running.delete(shard.id));
        this.readers.push(reader);
      }
    }
    if (mayConclude && !this.stopping && this.running.size === 0 && [...this.listed.keys()].every((id) => !mine(id) || this.finished.has(id))) {
      this.log("every shard is closed and read to its end");
      this.stop("all-shards-ended");
    }
  }

  private async relistLoop(): Promise<void> {
    const interval = this.options.relistIntervalMs ?? 10_000;
    while (!this.stopping) {
      await this.clock.sleep(interval, this.stopSignal);
      if (!this.stopping) await this.relist().catch((err) => this.stop("error", err));
    }
  }

  private async checkpointLoop(): Promise<void> {
    if (!this.options.checkpoint) return;
    const interval = this.options.checkpointIntervalMs ?? 2_000;
    while (!this.stopping) {
      await this.clock.sleep(interval, this.stopSignal);
      if (!this.stopping) await this.positions.save(false).catch((err) => this.stop("error", err));
    }
  }

  private async idleLoop(): Promise<void> {
    const idle = this.options.idleTimeoutMs;
    if (idle === undefined) return;
    while (!this.stopping) {
      const left = this.lastRecordAt + idle - this.clock.now();
      if (left <= 0 && this.inFlight > 0) {
        // A read is under way (a slow endpoint): wait for its answer, whose records count as arrivals,
        // then let the readers go on (a reader's next call starts within the same turn of the event loop).
        await Promise.race([this.callsSettled.wait(), this.stopped]);
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if (left <= 0) {
        this.log(`no record for ${idle / 1000} s; stopping (--idle-timeout)`);
        this.stop("idle-timeout");
        return;
      }
      await this.clock.sleep(left, this.stopSignal);
    }
  }
}
