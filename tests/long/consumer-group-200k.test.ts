/**
 * Issue 19's done-when, at full size (`npm run test:long`, not part of `npm test`: 40–77 s for plain
 * records and about half a minute aggregated on the 2-core test machine): 3 `subscribe --group` workers on
 * a 16-shard stream, one killed with SIGKILL and one added while 200,000 records are published. Every
 * record reaches some worker's output at least once; every duplicate falls after a takeover of its shard
 * and past the checkpoint the taker started from, taken from a worker that had written it (so a shard's
 * duplicates are at most the records since its last checkpoint before the takeover); the live workers
 * end with 5 or 6 leases each. Once with plain records (200,000 Kinesis records), once packed into KPL
 * aggregated records of up to 4 KiB (the workers de-aggregate; a checkpoint covers a whole aggregate).
 * tests/integration/consumer-group.test.ts runs the same scenario smaller in `npm test`.
 */
import assert from "node:assert/strict";
import { describeRun, GroupLake, killAndJoin } from "../helpers/group-scenario";

const RECORDS = Number(process.env.GROUP_TEST_RECORDS ?? 200_000);

for (const aggregateMaxBytes of [undefined, 4096]) {
  const how = aggregateMaxBytes ? `aggregated (KPL, ≤ ${aggregateMaxBytes} B)` : "plain";
  describe(`consumer group at scale: 16 shards, ${RECORDS} ${how} records, 3 workers, one killed, one added`, function () {
    this.timeout(600_000);
    let g: GroupLake;
    before(async () => {
      g = await GroupLake.start(16);
    });
    after(async () => {
      await g?.stop();
    });

    it("every record handed to a worker, duplicates only after a takeover and past its checkpoint, 5 or 6 leases per live worker", async () => {
      const r = await killAndJoin(g, { records: RECORDS, leaseSeconds: 6, drainTimeoutMs: 300_000, aggregateMaxBytes });
      console.log(`      ${describeRun(r, RECORDS)}`);
      for (const [w, n] of r.leases) assert.ok(n === 5 || n === 6, `${w} holds ${n} leases`);
      assert.ok(r.killedHeld >= 5, `w2 held ${r.killedHeld} shards when killed`);
    });
  });
}
