/**
 * What one worker does in one round of lease taking, decided from its view of the table alone (pure,
 * no DynamoDB): KCL's lease taker, with a graceful hand-over for workers above their share.
 *
 * - Only *workable* leases count: not finished (`SHARD_END`), and every parent finished (or its lease gone,
 *   as KCL treats a parent that has aged out of the stream). A child is leased only after its parents' ends
 *   are checkpointed, by whichever workers held them.
 * - The share (target) is workable leases / workers, rounded up; workers are the owners of unexpired
 *   leases, plus this one.
 * - Above its share, a worker releases one lease per round, gracefully: its reader stops and checkpoints,
 *   then the lease is given up (coordinator.ts).
 * - Below its share, it takes unheld and expired leases, as many as it needs; when there are none, it
 *   steals one lease from the most loaded worker if that worker is above the share, or at the share
 *   while this one needs more than one (so 16 leases end 6/5/5, never 6/6/4). At most one steal a round,
 *   one pending at a time, and none while some worker looks dead (its leases are about to be free).
 *   A steal is a request: the owner hands the lease over as above (coordinator.ts), so a live lease
 *   never changes hands under a worker that still reads it, even one that cannot reach the table.
 */
import { Lease, SHARD_END } from "./lease";

export interface RoundView {
  /** Every row of the table, as just read. */
  leases: Lease[];
  /** This worker's id. */
  me: string;
  /** Keys of the leases this worker holds (its own bookkeeping, not the table's leaseOwner). */
  held: ReadonlySet<string>;
  /** Keys of leases whose owner has not renewed for the lease duration (see coordinator.ts). */
  expired: ReadonlySet<string>;
  /**
   * Keys of leases not renewed for longer than a live owner takes (but not expired yet): their owner is
   * probably dead and they will soon be available, so nobody steals meanwhile (a steal costs its victim
   * the records since its last checkpoint). @default none
   */
  suspect?: ReadonlySet<string>;
  /** Shuffles candidates so that workers taking at once do not all try the same lease. @default random */
  shuffle?: <T>(items: T[]) => T[];
}

export interface RoundPlan {
  /** The share of each worker this round. */
  target: number;
  /** Unheld or expired leases, in the order to try them (shuffled): take up to `needed` of them. */
  take: Lease[];
  /** How many leases this worker needs to reach the share. */
  needed: number;
  /** A live lease of the most loaded worker to ask it to hand over (a graceful steal: it releases, then anyone takes). */
  steal: Lease | undefined;
  /** One of this worker's leases to hand over gracefully. */
  release: string | undefined;
  /** Workers counted (this one included). */
  workers: number;
}

/** True when the lease has work left and every parent is done. */
export function isWorkable(lease: Lease, byKey: ReadonlyMap<string, Lease>): boolean {
  if (lease.checkpoint === SHARD_END) return false;
  return lease.parentShardIds.every((p) => {
    const parent = byKey.get(p);
    return parent === undefined || parent.checkpoint === SHARD_END;
  });
}

function randomShuffle<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export function planRound(view: RoundView): RoundPlan {
  const shuffle = view.shuffle ?? randomShuffle;
  const byKey = new Map(view.leases.map((l) => [l.leaseKey, l]));
  const workable = view.leases.filter((l) => isWorkable(l, byKey));
  // Unheld (and not handed over to another worker), expired, or named for this worker in the table without
  // being held here (a restart under the same id). A lease handed over to a worker that never takes it
  // expires like a held one.
  const available = workable.filter(
    (l) =>
      (l.leaseOwner === undefined && (l.handoverRequestedBy === undefined || l.handoverRequestedBy === view.me)) ||
      view.expired.has(l.leaseKey) ||
      (l.leaseOwner === view.me && !view.held.has(l.leaseKey)),
  );
  const counts = new Map<string, number>([[view.me, 0]]);
  // A worker that asked for a hand-over is a worker, even while it holds nothing yet.
  for (const l of workable) if (l.handoverRequestedBy !== undefined && !view.expired.has(l.leaseKey)) counts.set(l.handoverRequestedBy, 0);
  for (const l of workable) {
    if (l.leaseOwner === undefined || view.expired.has(l.leaseKey)) continue;
    if (l.leaseOwner === view.me) {
      if (view.held.has(l.leaseKey)) counts.set(view.me, counts.get(view.me)! + 1);
      continue;
    }
    counts.set(l.leaseOwner, (counts.get(l.leaseOwner) ?? 0) + 1);
  }
  const workers = counts.size;
  const target = workable.length === 0 ? 0 : workers >= workable.length ? 1 : Math.ceil(workable.length / workers);
  const mine = counts.get(view.me)!;
  const plan: RoundPlan = { target, take: [], needed: 0, steal: undefined, release: undefined, workers };
  if (mine > target) {
    const own = workable.filter((l) => l.leaseOwner === view.me && view.held.has(l.leaseKey));
    plan.release = own[own.length - 1]?.leaseKey;
    return plan;
  }
  const needed = target - mine;
  if (needed <= 0) return plan;
  plan.needed = needed;
  if (available.length > 0) {
    // All of them, shuffled: when another worker takes one first, the next is tried in the same round.
    plan.take = shuffle(available);
    return plan;
  }
  if ((view.suspect?.size ?? 0) > 0) return plan;
  // One pending request at a time: until its owner has released it, ask for nothing more.
  if (workable.some((l) => l.handoverRequestedBy === view.me)) return plan;
  let loaded: [string, number] | undefined;
  for (const [owner, count] of counts) if (owner !== view.me && (!loaded || count > loaded[1])) loaded = [owner, count];
  if (!loaded) return plan;
  const [victim, count] = loaded;
  if (count > target || (count === target && needed > 1)) {
    plan.steal = shuffle(workable.filter((l) => l.leaseOwner === victim && !view.expired.has(l.leaseKey) && l.handoverRequestedBy === undefined))[0];
  }
  return plan;
}
