import assert from "node:assert/strict";
import { engineShardReader, LeaseCheckpointStore, leasePosition } from "../../../runtime/leases/engine-reader";
import { records, shardId, StubKinesis } from "../../helpers/stub-kinesis";
import { LeaseLostError, newLease } from "../../../runtime/leases";

const lease = (checkpoint: string) => ({ ...newLease("shardId-000000000001", [], "TRIM_HORIZON"), checkpoint });

describe("a consumer group's engine reader: the lease as the engine's checkpoint", () => {
  it("reads the lease's checkpoint as the engine's saved position of that shard", () => {
    assert.deepEqual(leasePosition(lease("TRIM_HORIZON")), { "shardId-000000000001": { start: "trim-horizon" } });
    assert.deepEqual(leasePosition(lease("LATEST")), {});
    assert.deepEqual(leasePosition(lease("SHARD_END")), { "shardId-000000000001": { ended: true } });
    assert.deepEqual(leasePosition(lease("4967")), { "shardId-000000000001": { sequenceNumber: "4967" } });
    const pinned = { ...lease("AT_TIMESTAMP"), checkpointTimestamp: Date.parse("2024-05-01T12:00:00.000Z") };
    assert.deepEqual(leasePosition(pinned), { "shardId-000000000001": { start: { atTimestamp: "2024-05-01T12:00:00.000Z" } } });
    // AT_TIMESTAMP without a time (a row this coordinator did not write): re-read rather than skip.
    assert.deepEqual(leasePosition(lease("AT_TIMESTAMP")), { "shardId-000000000001": { start: "trim-horizon" } });
  });

  it("pins a LATEST lease's start (the engine's AT_TIMESTAMP of its start) before the first read, once; never a lease that has a start", async () => {
    const pins: unknown[] = [];
    const written: string[] = [];
    const context = {
      signal: new AbortController().signal,
      checkpoint: async (seq: string) => void written.push(seq),
      pinStart: async (start: Date | "TRIM_HORIZON") => void pins.push(start instanceof Date ? start.toISOString() : start),
      holds: () => true,
    };
    const at = "2024-05-01T12:00:00.000Z";
    const store = new LeaseCheckpointStore(lease("LATEST"), context, () => undefined);
    assert.deepEqual(await store.load(), {});
    await store.save("s", { "shardId-000000000001": { start: { atTimestamp: at } } });
    await store.save("s", { "shardId-000000000001": { start: { atTimestamp: at } } });
    assert.deepEqual(pins, [at]);
    await store.save("s", { "shardId-000000000001": { sequenceNumber: "7" } });
    assert.deepEqual(written, ["7"]);
    // A lease with a start of its own (TRIM_HORIZON, a pinned AT_TIMESTAMP) is not pinned again.
    for (const cp of ["TRIM_HORIZON", "AT_TIMESTAMP"]) {
      const other = new LeaseCheckpointStore(lease(cp), context, () => undefined);
      await other.save("s", { "shardId-000000000001": { start: { atTimestamp: at } } });
    }
    assert.deepEqual(pins, [at]);
  });

  it("a pin that fails fails the reader; a record's checkpoint that fails (table unreachable) is logged, and written by the next save", async () => {
    let fail = true;
    const written: string[] = [];
    const unreachable = () => Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const context = {
      signal: new AbortController().signal,
      checkpoint: async (seq: string) => {
        if (fail) throw unreachable();
        written.push(seq);
      },
      pinStart: async () => {
        if (fail) throw unreachable();
      },
      holds: () => true,
    };
    const logged: string[] = [];
    const latest = new LeaseCheckpointStore(lease("LATEST"), context, () => undefined, (l) => logged.push(l));
    await assert.rejects(latest.save("s", { "shardId-000000000001": { start: { atTimestamp: "2024-05-01T12:00:00.000Z" } } }), /ECONNREFUSED/);
    const store = new LeaseCheckpointStore(lease("10"), context, () => undefined, (l) => logged.push(l));
    await store.save("s", { "shardId-000000000001": { sequenceNumber: "11" } });
    assert.equal(logged.length, 1);
    assert.match(logged[0], /checkpoint 11 not written \(connect ECONNREFUSED\); reading on/);
    fail = false;
    await store.save("s", { "shardId-000000000001": { sequenceNumber: "11" } });
    assert.deepEqual(written, ["11"]);
  });

  it("writes a moved sequence number into the lease, and stops writing once a checkpoint is refused", async () => {
    const written: string[] = [];
    let refuse = false;
    const controller = new AbortController();
    const context = {
      signal: controller.signal,
      checkpoint: async (seq: string) => {
        if (refuse) throw new LeaseLostError("shardId-000000000001", undefined);
        written.push(seq);
      },
      pinStart: async () => undefined,
      holds: () => true,
    };
    const lost: string[] = [];
    const store = new LeaseCheckpointStore(lease("10"), context, (err) => lost.push(err.name));
    const save = (seq?: string) => store.save("s", seq ? { "shardId-000000000001": { sequenceNumber: seq } } : { "shardId-000000000001": { start: "trim-horizon" } });
    await save("10"); // the lease's own checkpoint: nothing to write
    await save(); // a start only: the row already says where
    await save("11");
    await save("11");
    assert.deepEqual(written, ["11"]);
    refuse = true;
    await save("12"); // refused: not an error of the run, the reader is told
    assert.deepEqual(lost, ["LeaseLostError"]);
    refuse = false;
    await save("13");
    assert.deepEqual(written, ["11"], "a lost lease was written again");
  });

  it("does not write a lease the coordinator already reported lost", async () => {
    const controller = new AbortController();
    const written: string[] = [];
    const store = new LeaseCheckpointStore(lease("TRIM_HORIZON"), { signal: controller.signal, checkpoint: async (s: string) => void written.push(s), pinStart: async () => undefined, holds: () => true }, () => undefined);
    controller.abort("lost");
    await store.save("s", { "shardId-000000000001": { sequenceNumber: "5" } });
    assert.deepEqual(written, []);
  });

  it("hands on no record once the lease's trust has run out, before any timer says so, and checkpoints nothing after", async () => {
    const stub = new StubKinesis([{ id: shardId(1), records: records(1, 50) }]);
    stub.batch = 10;
    let trusted = 25;
    const written: string[] = [];
    const checkpoints: string[] = [];
    const read = engineShardReader(stub as never, "s", {
      write: (record) => {
        written.push(record.SequenceNumber!);
        trusted--;
      },
      minGetRecordsIntervalMs: 1,
      tipGetRecordsIntervalMs: 1,
      emptyReadPauseMs: 1,
      checkpointIntervalMs: 1,
    });
    const outcome = await read({ ...newLease(shardId(1), [], "TRIM_HORIZON") }, {
      signal: new AbortController().signal,
      checkpoint: async (seq: string) => void checkpoints.push(seq),
      pinStart: async () => undefined,
      holds: () => trusted > 0,
    });
    assert.equal(outcome, undefined, "a fenced reader does not report the shard's end");
    assert.equal(written.length, 25, "records handed on after the trust ran out");
    assert.ok(checkpoints.every((c) => BigInt(c) <= BigInt(written[written.length - 1])), `checkpointed past what was handed on: ${checkpoints}`);
  });
});
