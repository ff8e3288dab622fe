/**
 * The lease taker's rule (runtime/leases/balance.ts), on views of a table: shares, taking, stealing at
 * most one lease from the most loaded worker, handing over above the share, and children after parents.
 */
import assert from "node:assert/strict";
import { isWorkable, planRound, RoundView } from "../../../runtime/leases/balance";
import { Lease, newLease, SHARD_END } from "../../../runtime/leases/lease";

const shard = (i: number) => `shardId-${String(i).padStart(12, "0")}`;
const held = (key: string, owner: string | undefined, extra: Partial<Lease> = {}): Lease => ({ ...newLease(key, [], "TRIM_HORIZON"), leaseOwner: owner, leaseCounter: 3, ...extra });
/** 16 leases, `owners[i]` holding shard i (undefined: nobody). */
const table = (owners: (string | undefined)[]) => owners.map((o, i) => held(shard(i), o));
const view = (leases: Lease[], me: string, expired: string[] = []): RoundView => ({
  leases,
  me,
  held: new Set(leases.filter((l) => l.leaseOwner === me).map((l) => l.leaseKey)),
  expired: new Set(expired),
  shuffle: (x) => [...x],
});
const repeat = (owner: string | undefined, n: number) => Array.from({ length: n }, () => owner);

describe("lease balancing (pure)", () => {
  it("a lone worker takes every unheld lease", () => {
    const plan = planRound(view(table(repeat(undefined, 16)), "a"));
    assert.equal(plan.target, 16);
    assert.equal(plan.needed, 16);
    assert.equal(plan.take.length, 16);
  });

  it("a new worker steals one lease a round from the most loaded worker, never more", () => {
    const leases = table([...repeat("a", 10), ...repeat("b", 6)]);
    const plan = planRound(view(leases, "c"));
    assert.equal(plan.target, 6); // 16 leases, 3 workers
    assert.deepEqual(plan.take, []);
    assert.equal(plan.steal?.leaseOwner, "a");
    assert.equal(plan.release, undefined);
  });

  it("a worker above its share hands one lease over, and takes nothing", () => {
    const leases = table([...repeat("a", 8), ...repeat("b", 7), "c"]);
    const plan = planRound(view(leases, "a"));
    assert.equal(plan.target, 6);
    assert.ok(plan.release && leases.find((l) => l.leaseKey === plan.release)?.leaseOwner === "a");
    assert.deepEqual([plan.take, plan.steal], [[], undefined]);
  });

  it("settles at 6/5/5 for 16 leases: nobody at 5 steals from a worker at 6, a worker at 4 does", () => {
    const settled = table([...repeat("a", 6), ...repeat("b", 5), ...repeat("c", 5)]);
    for (const me of ["a", "b", "c"]) {
      const plan = planRound(view(settled, me));
      assert.deepEqual([plan.take.length, plan.steal, plan.release], [0, undefined, undefined], me);
    }
    const short = table([...repeat("a", 6), ...repeat("b", 6), ...repeat("c", 4)]);
    assert.ok(planRound(view(short, "c")).steal, "a worker 2 below the share steals from one at the share");
  });

  it("counts expired leases as available and their owner as gone", () => {
    const leases = table([...repeat("a", 5), ...repeat("dead", 6), ...repeat("b", 5)]);
    const expired = leases.filter((l) => l.leaseOwner === "dead").map((l) => l.leaseKey);
    const plan = planRound(view(leases, "a", expired));
    assert.equal(plan.workers, 2);
    assert.equal(plan.target, 8);
    assert.equal(plan.needed, 3);
    assert.deepEqual(plan.take.map((l) => l.leaseKey).sort(), expired.sort());
    assert.equal(plan.steal, undefined);
  });

  it("steals nothing while a worker looks dead: its leases are about to be free", () => {
    const leases = table([...repeat("a", 4), ...repeat("b", 8), ...repeat("quiet", 4)]);
    const quiet = leases.filter((l) => l.leaseOwner === "quiet").map((l) => l.leaseKey);
    assert.ok(planRound(view(leases, "a")).steal, "without suspects a steals from b");
    assert.equal(planRound({ ...view(leases, "a"), suspect: new Set(quiet) }).steal, undefined);
  });

  it("asks for one hand-over at a time, and never for a lease someone else already asked for", () => {
    const leases = table([...repeat("a", 10), ...repeat("b", 6)]);
    const asked = leases.map((l, i) => (i === 0 ? { ...l, handoverRequestedBy: "c" } : l));
    assert.equal(planRound(view(asked, "c")).steal, undefined, "c asks again while its request is pending");
    const byOther = leases.map((l) => (l.leaseOwner === "a" ? { ...l, handoverRequestedBy: "d" } : l));
    assert.equal(planRound(view(byOther, "c")).steal, undefined, "c asks for a lease d asked for");
  });

  it("keeps a lease released on request for its requester (who counts as a worker), unless the requester never takes it", () => {
    const leases = table([...repeat("a", 3), undefined]).map((l, i) => (i === 3 ? { ...l, handoverRequestedBy: "b" } : l));
    const forA = planRound(view(leases, "a"));
    assert.equal(forA.workers, 2, "the requester is not counted");
    assert.deepEqual(forA.take, [], "a takes back what it handed over");
    assert.deepEqual(planRound(view(leases, "b")).take.map((l) => l.leaseKey), [shard(3)]);
    // Not taken by the requester for a lease duration: free for anyone.
    assert.deepEqual(planRound(view(leases, "c", [shard(3)])).take.map((l) => l.leaseKey), [shard(3)]);
  });

  it("leases a child only when every parent's end is checkpointed (or its lease is gone)", () => {
    const parent = held("p", undefined);
    const other = held("q", undefined, { checkpoint: SHARD_END });
    const child = newLease("c", ["p", "q"], "TRIM_HORIZON");
    const orphan = newLease("o", ["gone"], "TRIM_HORIZON");
    const byKey = new Map([parent, other, child, orphan].map((l) => [l.leaseKey, l]));
    assert.equal(isWorkable(child, byKey), false);
    assert.equal(isWorkable(orphan, byKey), true);
    assert.equal(isWorkable(other, byKey), false, "a finished lease has no work left");
    byKey.set("p", { ...parent, checkpoint: SHARD_END });
    assert.equal(isWorkable(child, byKey), true);
    const plan = planRound(view([parent, other, child], "a"));
    assert.deepEqual(plan.take.map((l) => l.leaseKey), ["p"]);
  });

  it("takes back a lease the table names for this worker id but that it does not hold (a restart)", () => {
    const leases = table([...repeat("a", 2)]);
    const plan = planRound({ ...view(leases, "a"), held: new Set() });
    assert.equal(plan.take.length, 2);
  });
});
