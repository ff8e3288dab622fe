/**
 * `subscribe --group`: subscriber processes as workers of a consumer group against the local lake (its
 * kinesis-local and DynamoDB stand-in). The scenario of issue 19, smaller (20,000 records instead of
 * 200,000; the full size is tests/long/consumer-group-200k.test.ts, `npm run test:long`): 3 workers on a
 * 16-shard stream, one killed with SIGKILL and one added while the records are published; every record
 * reaches some worker's output, every duplicate falls after a takeover of its shard and past the
 * checkpoint the taker started from (tests/helpers/group-deliveries.ts), the live workers end with 5 or
 * 6 leases each, and SIGINT releases the leases with every checkpoint caught up. A group the segment
 * does not declare is refused in one line (exit 2).
 */
import assert from "node:assert/strict";
import { runApp } from "../helpers/run-app";
import { describeRun, GroupLake, killAndJoin, SEGMENT } from "../helpers/group-scenario";

const RECORDS = 20_000;

describe("consumer group workers (subscribe --group) on the local lake", function () {
  this.timeout(180_000);
  let g: GroupLake;

  before(async () => {
    g = await GroupLake.start(16);
  });

  after(async () => {
    await g?.stop();
  });

  async function lagOf(group: string): Promise<Array<{ shardId: string; status: string; recordsBehind: number; owner: string | null }>> {
    const run = await runApp("apps/lag/main.ts", ["--segment", SEGMENT, "--group", group, "--json"], g.env);
    assert.equal(run.code, 0, run.stderr);
    return run.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  }

  it("refuses a group the segment does not declare, in one line (exit 2)", async () => {
    const run = await runApp("apps/subscriber/main.ts", ["--segment", SEGMENT, "--group", "nope"], g.env);
    assert.equal(run.code, 2, run.stderr);
    const errors = run.stderr.split("\n").filter((l) => l.startsWith("error"));
    assert.equal(errors.length, 1, run.stderr);
    assert.match(errors[0], /--group nope: segment ingest\/persons declares no such consumer group \(its groups: billing\)/);
    assert.doesNotMatch(run.stderr, /^\s+at /m, "a stack trace");
    assert.equal(run.stdout, "");
    const lag = await runApp("apps/lag/main.ts", ["--segment", SEGMENT, "--group", "nope"], g.env);
    assert.equal(lag.code, 2, lag.stderr);
    assert.match(lag.stderr, /^error: --group nope: segment ingest\/persons declares no such consumer group/m);
  });

  it(`smaller variant (${RECORDS} records): 16 shards, 3 workers, one killed with SIGKILL and one added; every record reaches a worker, duplicates only after a takeover and past its checkpoint, 5 or 6 leases per live worker; SIGINT releases`, async () => {
    const pre = RECORDS / 5;
    const r = await killAndJoin(g, {
      records: RECORDS,
      leaseSeconds: 6,
      drainTimeoutMs: 60_000,
      prePublish: pre,
      beforeWorkers: async () => {
        // No worker ran yet: the table has no lease, so lag counts every shard from its start.
        const before = await lagOf("billing");
        assert.equal(before.reduce((n, l) => n + l.recordsBehind, 0), pre);
      },
    });
    console.log(`      ${describeRun(r, RECORDS)}`);
    assert.ok(r.killedHeld >= 5, `w2 held ${r.killedHeld} shards when killed`);

    const live = g.workers.filter((w) => w.id !== "w2");
    for (const w of live) w.child.kill("SIGINT");
    for (const w of live) assert.equal(await w.exited, 0, w.stderr);
    const after = await g.table.list();
    assert.deepEqual(after.filter((l) => l.leaseOwner !== undefined).map((l) => `${l.leaseKey}:${l.leaseOwner}`), [], "a lease still held after SIGINT");
    // Each shard's checkpoint is a sequence number: the workers checkpointed what they wrote.
    assert.ok(after.every((l) => /^\d+$/.test(l.checkpoint)), JSON.stringify(after.map((l) => l.checkpoint)));
    // lag --group reads those checkpoints: nothing behind.
    const caughtUp = await lagOf("billing");
    assert.equal(caughtUp.length, 16);
    assert.deepEqual(caughtUp.map((l) => [l.status, l.recordsBehind]), Array(16).fill(["caught-up", 0]));
  });
});
