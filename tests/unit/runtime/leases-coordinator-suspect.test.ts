/**
 * The coordinator's "looks dead" rule (runtime/leases/coordinator.ts): a lease whose owner has not renewed
 * for two renewal intervals (but is not expired yet) is suspect, and a worker below its share then asks
 * nobody for a hand-over: the dead owner's leases are about to be free, and a request to it is wasted
 * (one pending request at a time). With the default timing (renewal every third of the lease duration)
 * this must hold for the last third of the lease, not never.
 */
import assert from "node:assert/strict";
import { Lease, LeaseCoordinator, LeaseTable, newLease } from "../../../runtime/leases";

const LEASE_MS = 10_000;

/** A table of 16 leases, 8 of a dead worker "a" (counters never move) and 8 of a live "b" (moving at every scan). */
function fakeTable(): { table: LeaseTable; requests: string[] } {
  const leases: Lease[] = Array.from({ length: 16 }, (_, i) => ({
    ...newLease(`shard-${String(i).padStart(2, "0")}`, [], "TRIM_HORIZON"),
    leaseOwner: i < 8 ? "a" : "b",
    leaseCounter: 1,
  }));
  const requests: string[] = [];
  const table = {
    describe: async () => undefined,
    list: async () => {
      for (const l of leases) if (l.leaseOwner === "b") l.leaseCounter++;
      return leases.map((l) => ({ ...l }));
    },
    requestHandover: async (lease: Lease) => {
      requests.push(lease.leaseOwner!);
      return false;
    },
    take: async () => {
      throw new Error("nothing is free in this test");
    },
  } as unknown as LeaseTable;
  return { table, requests };
}

describe("lease coordinator: a worker that looks dead is not asked for a hand-over", () => {
  it("with the default timing, steals while the owners renew on time, and not once a lease went two renewal intervals unrenewed", async () => {
    const { table, requests } = fakeTable();
    let now = 0;
    const c = new LeaseCoordinator({ table, workerId: "c", leaseDurationMs: LEASE_MS, now: () => now });
    assert.equal(c.renewIntervalMs, 3_333);
    await c.takeRound(); // first sight of every counter: nobody looks dead yet
    assert.equal(requests.length, 1, "below its share (0 of 6) with nothing free: one steal request");
    now = 5_000; // a's counters unchanged for 1.5 renewal intervals: late, not dead
    await c.takeRound();
    assert.equal(requests.length, 2);
    now = 7_000; // unchanged for 2.1 renewal intervals, still 3 s before they expire
    await c.takeRound();
    assert.equal(requests.length, 2, `asked ${requests.at(-1)} for a hand-over while a's leases were about to expire`);
    await c.stop();
  });
});
