/**
 * One worker's side of a consumer group: it renews the leases it holds, takes unheld and expired ones,
 * balances with the other workers (balance.ts), checkpoints into the lease rows, and tells its shard
 * readers when a lease is gained, lost, or to be handed over.
 *
 * Expiry is judged locally, as KCL does: a lease whose `leaseCounter` this worker has seen unchanged for
 * the lease duration (its own monotonic clock, from the first scan that showed that value) belongs to a
 * worker that stopped renewing. Taking it is a conditional write on that very counter, so a renewal that
 * lands meanwhile makes the take fail instead. The owner, for its part, trusts a lease only until the
 * lease duration after it *sent* its last successful renewal (less a small margin): that is before any
 * observer can call it expired, so two workers never both believe they hold a shard (clocks that run at
 * the same rate assumed, not synchronized ones). A worker that cannot renew (table unreachable) keeps its
 * leases until then, and gives them up at that moment (a timer per lease, not the next renewal).
 *
 * Nobody takes a live lease: a worker below its share that finds nothing free asks the most loaded
 * worker to hand one over (a mark in the row, which the owner's next renewal returns); the owner's reader
 * stops and checkpoints, the lease is released, and then it is free for the taking.
 *
 * Per lease, writes are serialized (renewal, checkpoint, release), so each knows the counter it expects.
 */
import { EventEmitter } from "node:events";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { planRound, RoundPlan } from "./balance";
import { AT_TIMESTAMP, InitialPosition, Lease, newLease, SHARD_END, TRIM_HORIZON } from "./lease";
import { LeaseLostError, LeaseTable } from "./table";

export interface CoordinatorOptions {
  table: LeaseTable;
  /** This worker's id, written as leaseOwner. @default "<hostname>-<pid>-<random>" */
  workerId?: string;
  /** How long a lease lives without renewal (KCL's failoverTimeMillis). @default 10000 */
  leaseDurationMs?: number;
  /** How often held leases are renewed. @default a third of the lease duration */
  renewIntervalMs?: number;
  /** How often the table is scanned to take, steal and balance. @default the renewal interval */
  takeIntervalMs?: number;
  /** Where shards nobody has read yet start (children always start at their beginning). @default "TRIM_HORIZON" */
  initialPosition?: InitialPosition;
  /** Monotonic milliseconds. @default performance.now */
  now?: () => number;
  /** One line per lease event (taken, stolen, lost, released). @default none */
  log?: (line: string) => void;
}

/** A shard as the stream lists it: its id and its parents (for the lease's parentShardId). */
export interface ShardInfo {
  shardId: string;
  parentShardId?: string;
  adjacentParentShardId?: string;
}

export interface CoordinatorEvents {
  /** This worker now holds the lease: start reading the shard from `lease.checkpoint`. */
  acquired: [lease: Lease];
  /** This worker no longer holds the lease (taken by another, or not renewed in time): stop the shard now. */
  lost: [leaseKey: string, reason: string];
  /** This worker is above its share: stop the shard, checkpoint, then call `release(leaseKey)`. */
  release: [leaseKey: string];
}

interface Held {
  lease: Lease;
  /** When the last write that renewed it was sent: the lease is trusted until this + lease duration. */
  renewedAt: number;
  /** Serializes the writes of this lease. */
  queue: Promise<unknown>;
  releasing: boolean;
  /** Fires when the lease may no longer be trusted (no renewal in time). */
  expiry: NodeJS.Timeout | undefined;
  /** Since when its renewals fail (one line when they start failing, one when one succeeds again). */
  failingSince?: number;
}

interface Seen {
  counter: number;
  owner: string | undefined;
  since: number;
}

export class LeaseCoordinator extends EventEmitter<CoordinatorEvents> {
  readonly workerId: string;
  readonly leaseDurationMs: number;
  readonly renewIntervalMs: number;
  readonly takeIntervalMs: number;
  readonly table: LeaseTable;
  private readonly initialPosition: InitialPosition;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly held = new Map<string, Held>();
  private readonly seen = new Map<string, Seen>();
  private renewTimer: NodeJS.Timeout | undefined;
  private takeTimer: NodeJS.Timeout | undefined;
  private running = false;
  private round: Promise<void> = Promise.resolve();
  private roundFailing = false;
  /** The last plan, for tests and logs. */
  lastPlan: RoundPlan | undefined;

  constructor(options: CoordinatorOptions) {
    super();
    this.table = options.table;
    this.workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
    this.leaseDurationMs = options.leaseDurationMs ?? 10_000;
    this.renewIntervalMs = options.renewIntervalMs ?? Math.max(1, Math.floor(this.leaseDurationMs / 3));
    this.takeIntervalMs = options.takeIntervalMs ?? this.renewIntervalMs;
    if (this.renewIntervalMs >= this.leaseDurationMs) throw new Error(`renewIntervalMs (${this.renewIntervalMs}) must be shorter than leaseDurationMs (${this.leaseDurationMs})`);
    this.initialPosition = options.initialPosition ?? TRIM_HORIZON;
    this.now = options.now ?? (() => performance.now());
    this.log = options.log ?? (() => undefined);
  }

  /** Checks the table exists (`LeaseTableMissingError` otherwise), then renews and takes on timers. */
  async start(): Promise<void> {
    await this.table.describe();
    this.running = true;
    this.renewTimer = setInterval(() => void this.renewAll(), this.renewIntervalMs);
    await this.takeRound();
  }

  /** Stops the timers; with `release`, gives up every held lease (after the readers checkpointed). */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.running = false;
    clearInterval(this.renewTimer);
    clearTimeout(this.takeTimer);
    // Stopped means no timer acts any more (holds() still turns false when the trust runs out).
    for (const h of this.held.values()) clearTimeout(h.expiry);
    await this.round.catch(() => undefined);
    if (options.release) await Promise.all([...this.held.keys()].map((k) => this.release(k).catch(() => undefined)));
    await Promise.all([...this.held.values()].map((h) => h.queue.catch(() => undefined)));
  }

  /** Keys of the leases this worker holds and may still trust. */
  heldKeys(): string[] {
    return [...this.held.keys()].filter((k) => this.holds(k)).sort();
  }

  /** How long after a renewal is sent the owner trusts its lease: the lease duration less 2 % (at least 25 ms). */
  get trustMs(): number {
    return this.leaseDurationMs - Math.max(25, Math.floor(this.leaseDurationMs / 50));
  }

  /** True while this worker holds the lease and its last renewal is recent enough to trust. */
  holds(leaseKey: string): boolean {
    const h = this.held.get(leaseKey);
    return h !== undefined && this.now() < h.renewedAt + this.trustMs;
  }

  /** After a write that renewed the lease: trust it until `trustMs` after `sent`, and act on a hand-over request. */
  private renewed(key: string, h: Held, sent: number): void {
    h.renewedAt = sent;
    clearTimeout(h.expiry);
    h.expiry = setTimeout(() => {
      if (this.held.get(key) === h && !this.holds(key)) this.drop(key, this.unrenewed());
    }, Math.max(1, sent + this.trustMs - this.now()));
    if (h.failingSince !== undefined) {
      this.log(`${this.workerId}: renewed ${key} again after ${((this.now() - h.failingSince) / 1000).toFixed(1)} s of failed renewals`);
      h.failingSince = undefined;
    }
    if (h.lease.handoverRequestedBy !== undefined && !h.releasing) {
      h.releasing = true;
      this.log(`${this.workerId}: ${h.lease.handoverRequestedBy} asks for ${key}, handing it over`);
      this.emit("release", key);
    }
  }

  /** The held lease as last written (its checkpoint is where a reader resumes). */
  lease(leaseKey: string): Lease | undefined {
    return this.held.get(leaseKey)?.lease;
  }

  /** Creates leases for listed shards that have none (parents before children); any worker may call it. */
  async syncShards(shards: ShardInfo[]): Promise<number> {
    const known = new Set((await this.table.list()).map((l) => l.leaseKey));
    let created = 0;
    for (const shard of parentsFirst(shards)) {
      if (known.has(shard.shardId)) continue;
      const parents = [shard.parentShardId, shard.adjacentParentShardId].filter((p): p is string => !!p);
      // A child starts at its beginning: its parents' records end where its own begin.
      if (await this.table.createIfAbsent(newLease(shard.shardId, parents, parents.length > 0 ? TRIM_HORIZON : this.initialPosition))) created++;
    }
    return created;
  }

  private serialized<T>(h: Held, work: () => Promise<T>): Promise<T> {
    const next = h.queue.then(work, work);
    h.queue = next.catch(() => undefined);
    return next;
  }

  private unrenewed(): string {
    return `not renewed within the lease duration (${this.leaseDurationMs} ms; is the lease table reachable?): stopped reading it, another worker may take it now`;
  }

  private drop(leaseKey: string, reason: string): void {
    clearTimeout(this.held.get(leaseKey)?.expiry);
    if (!this.held.delete(leaseKey)) return;
    this.log(`${this.workerId}: lost ${leaseKey}: ${reason}`);
    this.emit("lost", leaseKey, reason);
  }

  /** Renews every held lease once; drops those another worker changed and those not renewed in time. */
  async renewAll(): Promise<void> {
    await Promise.all(
      [...this.held.entries()].map(([key, h]) =>
        this.serialized(h, async () => {
          if (this.held.get(key) !== h) return;
          const sent = this.now();
          try {
            h.lease = await this.table.renew(h.lease, this.workerId);
            this.renewed(key, h, sent);
          } catch (err) {
            if (err instanceof LeaseLostError) return this.drop(key, "taken by another worker");
            if (h.failingSince === undefined) {
              h.failingSince = sent;
              const left = Math.max(0, h.renewedAt + this.trustMs - this.now());
              this.log(`${this.workerId}: could not renew ${key} (${(err as Error).message}); reading it on for at most ${(left / 1000).toFixed(1)} s more unless a renewal succeeds`);
            }
          }
          if (!this.holds(key)) this.drop(key, this.unrenewed());
        }),
      ),
    );
  }

  /**
   * Records a checkpoint in a held lease. Throws `LeaseLostError` when the lease is not held or was taken
   * meanwhile (fencing): the reader must stop that shard, nothing it read since the last checkpoint counts.
   */
  checkpoint(leaseKey: string, sequenceNumber: string, subSequenceNumber = 0): Promise<void> {
    return this.record(leaseKey, sequenceNumber, subSequenceNumber, undefined);
  }

  /**
   * Pins where a lease nobody has read yet (`LATEST`) starts, before its reader's first read: `AT_TIMESTAMP`
   * of `start` (the moment the reader began, before its LATEST iterator), or `TRIM_HORIZON`. A later owner
   * then starts there, not at the stream's tip of its own time, so a hand-over or takeover before the first
   * record's checkpoint skips nothing. Fails as `checkpoint` does.
   */
  pinStart(leaseKey: string, start: Date | typeof TRIM_HORIZON): Promise<void> {
    return start === TRIM_HORIZON ? this.record(leaseKey, TRIM_HORIZON, 0, undefined) : this.record(leaseKey, AT_TIMESTAMP, 0, start.getTime());
  }

  private async record(leaseKey: string, checkpoint: string, subSequenceNumber: number, timestamp: number | undefined): Promise<void> {
    const h = this.held.get(leaseKey);
    if (!h) throw new LeaseLostError(leaseKey, undefined);
    await this.serialized(h, async () => {
      if (this.held.get(leaseKey) !== h) throw new LeaseLostError(leaseKey, undefined);
      const sent = this.now();
      try {
        h.lease = await this.table.checkpoint(h.lease, this.workerId, checkpoint, subSequenceNumber, timestamp);
        this.renewed(leaseKey, h, sent);
      } catch (err) {
        if (err instanceof LeaseLostError) this.drop(leaseKey, "taken by another worker (checkpoint refused)");
        throw err;
      }
    });
  }

  /** Gives up a held lease (after its reader checkpointed): any worker may take it at once. */
  async release(leaseKey: string): Promise<void> {
    const h = this.held.get(leaseKey);
    if (!h) return;
    await this.serialized(h, async () => {
      if (this.held.get(leaseKey) !== h) return;
      try {
        await this.table.release(h.lease, this.workerId);
        clearTimeout(h.expiry);
        this.held.delete(leaseKey);
        this.log(`${this.workerId}: released ${leaseKey}`);
      } catch (err) {
        if (err instanceof LeaseLostError) return this.drop(leaseKey, "taken by another worker");
        h.releasing = false; // try again in a later round
        throw err;
      }
    });
  }

  /**
   * Forgets a held lease without writing it (no renewal from now on): the row still names this worker, so
   * its next round takes it back (balance.ts), and others take it once it expires. For a lease whose reader
   * stopped and whose release or finish could not be written.
   */
  abandon(leaseKey: string): void {
    const h = this.held.get(leaseKey);
    if (!h) return;
    clearTimeout(h.expiry);
    this.held.delete(leaseKey);
    this.log(`${this.workerId}: let go of ${leaseKey} without writing it (to be taken again)`);
  }

  /** The shard is read to its end: checkpoint SHARD_END (its children become workable) and release it. */
  async finish(leaseKey: string): Promise<void> {
    await this.checkpoint(leaseKey, SHARD_END);
    await this.release(leaseKey);
  }

  /** Runs one round now (and schedules the next); rounds never overlap. */
  takeRound(): Promise<void> {
    this.round = this.round.then(() => this.runRound());
    return this.round;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.takeTimer);
    if (this.running) this.takeTimer = setTimeout(() => void this.takeRound(), Math.max(1, delayMs));
  }

  private async runRound(): Promise<void> {
    let next = this.takeIntervalMs;
    try {
      const leases = await this.table.list();
      const scanned = this.now();
      const expired = new Set<string>();
      const suspect = new Set<string>();
      for (const l of leases) {
        const s = this.seen.get(l.leaseKey);
        if (!s || s.counter !== l.leaseCounter || s.owner !== l.leaseOwner) this.seen.set(l.leaseKey, { counter: l.leaseCounter, owner: l.leaseOwner, since: scanned });
        const since = this.seen.get(l.leaseKey)!.since;
        if (this.held.has(l.leaseKey)) continue;
        // Free leases are available at once, unless handed over to another worker: that one has a lease duration to take it.
        if (l.leaseOwner === undefined && (l.handoverRequestedBy === undefined || l.handoverRequestedBy === this.workerId)) continue;
        const expiresAt = since + this.leaseDurationMs;
        if (scanned >= expiresAt) expired.add(l.leaseKey);
        // Look again right when it would expire, not a whole interval later.
        else next = Math.min(next, expiresAt - scanned + 1);
        // A live owner renews every renewal interval, so scans showing one counter span less than that;
        // twice that without a change looks like a dead one. (Adding a take interval, as this once did, made
        // the threshold the whole lease duration at the default timing: nobody ever looked dead.)
        if (l.leaseOwner !== undefined && scanned < expiresAt && scanned - since > 2 * this.renewIntervalMs) suspect.add(l.leaseKey);
      }
      const plan = planRound({ leases, me: this.workerId, held: new Set(this.held.keys()), expired, suspect });
      this.lastPlan = plan;
      let taken = 0;
      for (const lease of plan.take) if (taken < plan.needed && (await this.take(lease))) taken++;
      if (plan.steal && (await this.table.requestHandover(plan.steal, this.workerId))) {
        this.log(`${this.workerId}: asked ${plan.steal.leaseOwner} to hand ${plan.steal.leaseKey} over`);
      }
      if (plan.release && !this.held.get(plan.release)?.releasing) {
        this.held.get(plan.release)!.releasing = true;
        this.log(`${this.workerId}: above its share (${plan.target}), handing over ${plan.release}`);
        this.emit("release", plan.release);
      }
    } catch (err) {
      if (!this.roundFailing) this.log(`${this.workerId}: lease round failed (${(err as Error).message}); trying again every ${this.takeIntervalMs} ms`);
      this.roundFailing = true;
      this.schedule(next);
      return;
    }
    if (this.roundFailing) this.log(`${this.workerId}: lease rounds work again`);
    this.roundFailing = false;
    this.schedule(next);
  }

  /** True when this worker now holds the lease. */
  private async take(lease: Lease): Promise<boolean> {
    const sent = this.now();
    try {
      const taken = await this.table.take(lease, this.workerId);
      const h: Held = { lease: taken, renewedAt: sent, queue: Promise.resolve(), releasing: false, expiry: undefined };
      this.held.set(lease.leaseKey, h);
      this.renewed(lease.leaseKey, h, sent);
      this.log(`${this.workerId}: took ${lease.leaseKey}${lease.leaseOwner ? ` (expired, from ${lease.leaseOwner})` : ""}`);
      this.emit("acquired", taken);
      return true;
    } catch (err) {
      if (!(err instanceof LeaseLostError)) throw err;
      // Another worker was quicker, or the owner renewed after all: nothing to do.
      return false;
    }
  }
}

/** Shards ordered so that every parent listed comes before its children. */
function parentsFirst(shards: ShardInfo[]): ShardInfo[] {
  const byId = new Map(shards.map((s) => [s.shardId, s]));
  const out: ShardInfo[] = [];
  const done = new Set<string>();
  const visit = (s: ShardInfo) => {
    if (done.has(s.shardId)) return;
    done.add(s.shardId);
    for (const p of [s.parentShardId, s.adjacentParentShardId]) if (p && byId.has(p)) visit(byId.get(p)!);
    out.push(s);
  };
  shards.forEach(visit);
  return out;
}
