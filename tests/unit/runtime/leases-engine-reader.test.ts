import assert from "node:assert/strict";
import { LeaseCheckpointStore, leasePosition } from "../../../runtime/leases/engine-reader";
import { LeaseLostError, newLease } from "../../../runtime/leases";

const lease = (checkpoint: string) => ({ ...newLease("shardId-000000000001", [], "TRIM_HORIZON"), checkpoint });

describe("a consumer group's engine reader: the lease as the engine's checkpoint", () => {
  it("reads the lease's checkpoint as the engine's saved position of that shard", () => {
    assert.deepEqual(leasePosition(lease("TRIM_HORIZON")), { "shardId-000000000001": { start: "trim-horizon" } });
    assert.deepEqual(leasePosition(lease("LATEST")), {});
    assert.deepEqual(leasePosition(lease("SHARD_END")), { "shardId-000000000001": { ended: true } });
    assert.deepEqual(leasePosition(lease("4967")), { "shardId-000000000001": { sequenceNumber: "4967" } });
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
    const store = new LeaseCheckpointStore(lease("TRIM_HORIZON"), { signal: controller.signal, checkpoint: async (s: string) => void written.push(s) }, () => undefined);
    controller.abort("lost");
    await store.save("s", { "shardId-000000000001": { sequenceNumber: "5" } });
    assert.deepEqual(written, []);
  });
});
