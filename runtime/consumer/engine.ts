/**
 * The consumer engine, under every user of a stream (the subscriber, the local wire-tap, replay's and
 * lag's reads, the library's consume): reads every shard of a stream concurrently, parents before
 * children, within the per-shard read limits, through polling (polling-reader.ts) or enhanced fan-out
 * (fan-out-reader.ts), and hands each record to `write` in shard order; positions go to a
 * CheckpointStore (checkpoint.ts) only once the caller's write resolved.
 */
import { setMaxListeners } from "events";
import { backoffDelay, Clock, realClock } from "../backoff";
import { ShardCheckpoint, ShardCheckpoints } from "./checkpoint";
import { classifyError } from "../kinesis-errors";
import { UserError } from "../errors";
import { readShard } from "./polling-reader";
import { readShardFanOut } from "./fan-out-reader";
import {
  checkpointMisfit,
  describePosition,
  KinesisSender,
  listShards,
  parentsFinished,
  ShardInfo,
  StartFrom,
  startPosition,
  toSavedStart,
} from "./shards";

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

/** A call kept failing with network errors, timeouts or 5xx beyond the retry bounds: the subscriber stops (exit 1). */
export class GaveUpError extends Error {
  constructor(what: string, attempts: number, failingForMs: number, readonly cause: unknown) {
    const last = cause instanceof Error ? `${cause.name}: ${cause.message.split("\n")[0]}` : String(cause);
    super(`${what} failed ${attempts} times in a row over ${(failingForMs / 1000).toFixed(0)} s; giving up (last error ${last})`);
    this.name = "GaveUpError";
  }
}

export function subscribe(client: KinesisSender, streamName: string, options: SubscribeOptions): Promise<SubscribeSummary> {
  return new Subscription(client, streamName, options).run();
}

/** One run of the subscriber; the state shared by the shard readers. Exported for shard-reader.ts only. */
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
  private positions: ShardCheckpoints = {};
  /** When run() began: `latest` is pinned to it for starting over (expired iterator, restart). */
  private startedAt = new Date();
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();
  private claimed = 0;
  private lastRecordAt = 0;
  /** Output bytes written so far, and the positions not yet covered by `holdBackBytes` of later output. */
  private outputOffset = 0;
  private readonly unconfirmed: Array<{ endOffset: number; shardId: string; position: ShardCheckpoint }> = [];
  private unconfirmedHead = 0;
  /** Kinesis calls under way: --idle-timeout never stops the run while one may still bring records. */
  private inFlight = 0;
  /** The loaded checkpoint does not fit the stream: it is left as it is. */
  private checkpointRejected = false;
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
    let loaded = false;
    try {
      if (this.options.checkpoint) {
        this.positions = { ...(await this.options.checkpoint.load(this.streamName)) };
        loaded = true;
      }
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
      if (loaded && !this.checkpointRejected) {
        await this.saveCheckpoint(true).catch((err) => {
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

  /**
   * Calls `call` until it succeeds: throttling backs off and retries for as long as it lasts, network
   * errors and 5xx a bounded number of times; anything else is thrown. Undefined once stopping.
   */
  async retrying<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    let throttled = 0;
    let failed = 0;
    let failingSince: number | undefined;
    const maxFailures = this.options.maxTransientRetries ?? 10;
    const budgetMs = this.options.transientBudgetMs ?? 120_000;
    for (;;) {
      if (this.stopping) return undefined;
      try {
        return await call();
      } catch (err) {
        if (this.stopping) return undefined;
        const kind = classifyError(err);
        const name = (err as Error)?.name ?? String(err);
        if (kind === "throttle") {
          this.counts.throttles += 1;
          if (throttled === 0) this.log(`${what}: throttled (${name}); backing off`);
          await this.clock.sleep(backoffDelay(throttled++, this.options.backoff), this.stopSignal);
        } else if (kind === "transient") {
          failingSince ??= this.clock.now();
          const failingFor = this.clock.now() - failingSince;
          if (failed >= maxFailures || failingFor >= budgetMs) {
            throw new GaveUpError(what, failed + 1, failingFor, err);
          }
          this.counts.retries += 1;
          this.log(`${what}: ${name}: ${(err as Error)?.message ?? ""}; retrying`);
          await this.clock.sleep(Math.min(backoffDelay(failed++, this.options.backoff), Math.max(0, budgetMs - failingFor)), this.stopSignal);
        } else {
          throw err;
        }
      }
    }
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
      written = await this.options.write(record, this.started.get(shardId) ?? { id: shardId, parents: [], closed: false });
    } catch (err) {
      this.stop("error", err);
      return false;
    }
    this.counts.records += 1;
    this.counts.bytes += record.Data?.length ?? 0;
    this.lastRecordAt = this.clock.now();
    this.outputOffset += typeof written === "number" ? written : 0;
    this.advance(shardId, { sequenceNumber: record.SequenceNumber });
    if (max !== undefined && this.counts.records >= max) this.stop("max");
    return true;
  }

  /** A reader read its shard to the end: remember that, start its children, look for new shards. */
  shardEnded(shardId: string, lastSequenceNumber: string | undefined, children: ShardInfo[]): void {
    this.advance(shardId, lastSequenceNumber ? { sequenceNumber: lastSequenceNumber, ended: true } : { ended: true });
    this.finished.add(shardId);
    this.log(`shard ${shardId}: read to its end${children.length ? `; children ${children.map((c) => c.id).join(", ")}` : ""}`);
    for (const child of children) if (!this.listed.has(child.id)) this.listed.set(child.id, child);
    this.schedule(false);
    this.relist().catch((err) => this.stop("error", err));
  }

  /**
   * Checks the loaded checkpoint against the first listing. One that names shards, none of which the stream
   * has, belongs to another stream (an earlier one of the same name) or to shards long trimmed; one that
   * says an open shard ended, or gives a shard a sequence number outside its range, was written for another
   * stream or edited. Reading on would silently skip or re-read records, so the run stops and the file is
   * left as it is.
   */
  private checkCheckpointMatches(): void {
    const saved = Object.keys(this.positions);
    if (saved.length === 0) return;
    const where = this.options.checkpoint?.description ?? "the checkpoint";
    const reject = (message: string) => {
      this.checkpointRejected = true;
      this.stop("error", new UserError(message));
    };
    if (!saved.some((id) => this.listed.has(id))) {
      const named = saved.length > 3 ? `${saved.slice(0, 3).join(", ")} and ${saved.length - 3} more` : saved.join(", ");
      reject(
        `${where} names none of stream ${this.streamName}'s shards (it names ${named}); it belongs to another stream of that ` +
          `name or to shards past the stream's retention: move it away to read this stream from --from`,
      );
      return;
    }
    const misfits = saved.flatMap((id) => {
      const shard = this.listed.get(id);
      const why = shard ? checkpointMisfit(this.positions[id], shard) : undefined;
      return why ? [why] : [];
    });
    if (misfits.length > 0) {
      reject(
        `${where} ${misfits[0]}${misfits.length > 1 ? ` (and ${misfits.length - 1} more shard(s) do not fit)` : ""}; ` +
          `it does not fit stream ${this.streamName}: move it away to read the stream from --from, or delete the entries of those shards to read them from --from`,
      );
    }
  }

  /**
   * Moves a shard's saved position forward once the output written after it covers `holdBackBytes`
   * (at once when it is 0). Positions become saveable in output order, so a shard never gets ahead of
   * a record of its own that is still held back.
   */
  private advance(shardId: string, position: ShardCheckpoint): void {
    const holdBack = this.options.holdBackBytes ?? 0;
    this.unconfirmed.push({ endOffset: this.outputOffset, shardId, position });
    while (this.unconfirmedHead < this.unconfirmed.length && this.unconfirmed[this.unconfirmedHead].endOffset + holdBack <= this.outputOffset) {
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
            this.checkCheckpointMatches();
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
        const saved = this.positions[shard.id];
        const start = startPosition(shard, this.from, saved, {
          startedAt: this.startedAt,
          inFirstListing: this.firstListing?.has(shard.id) ?? true,
          parentRead: shard.parents.some((parent) => this.positions[parent] !== undefined),
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
          this.positions[shard.id] = { start: toSavedStart(start.origin) };
          this.dirty = true;
          // One save for every shard started in this call: the snapshot is taken after it returns.
          persisted ??= this.saveCheckpoint(false);
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
      if (!this.stopping) await this.saveCheckpoint(false).catch((err) => this.stop("error", err));
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

  /** Saves a snapshot of the positions (starts, and records already written); saves never overlap. */
  private saveCheckpoint(force: boolean): Promise<void> {
    const store = this.options.checkpoint;
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
