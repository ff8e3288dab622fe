/**
 * The group tests' duplicate check (tests/helpers/group-deliveries.ts): an extra copy of a record is
 * allowed only after a takeover of its shard, past the checkpoint the taker started from, taken from a
 * worker that had written it; one takeover explains one extra copy.
 */
import assert from "node:assert/strict";
import { checkDeliveries, Delivery, Takeover } from "../helpers/group-deliveries";

const d = (worker: string, id: string, seq: number, shardId = "s0"): Delivery => ({ worker, id, shardId, sequenceNumber: String(seq) });
const takeover: Takeover = { shardId: "s0", from: "w2", by: "w1", checkpoint: "20" };

describe("the consumer group tests' duplicate check", () => {
  it("passes single deliveries, and copies of records past a takeover's checkpoint that its previous owner wrote", () => {
    const r = checkDeliveries([d("w2", "a", 10), d("w2", "b", 30), d("w1", "b", 30), d("w1", "c", 40)], [takeover]);
    assert.deepEqual(r.unexplained, []);
    assert.equal(r.records, 3);
    assert.equal(r.duplicates, 1);
    assert.deepEqual(r.duplicatesByShard, { s0: 1 });
    // The bound: what w2 wrote past checkpoint 20 (b only).
    assert.deepEqual(r.sinceCheckpointByShard, { s0: 1 });
  });

  it("refuses a copy without a takeover of its shard (a graceful hand-over that replayed)", () => {
    const r = checkDeliveries([d("w2", "b", 30, "s1"), d("w1", "b", 30, "s1")], [takeover]);
    assert.equal(r.unexplained.length, 1);
    assert.match(r.unexplained[0], /b \(s1 30\) written 2 times by w2, w1; no takeover of the shard/);
  });

  it("refuses a copy at or before the checkpoint the taker started from", () => {
    for (const seq of [20, 15]) {
      const r = checkDeliveries([d("w2", "a", seq), d("w1", "a", seq)], [takeover]);
      assert.equal(r.unexplained.length, 1, `sequence number ${seq}`);
      assert.match(r.unexplained[0], /takeovers of the shard: w2->w1 from 20/);
    }
  });

  it("refuses a copy the previous owner never wrote, and more copies than takeovers", () => {
    assert.equal(checkDeliveries([d("w3", "a", 30), d("w1", "a", 30)], [takeover]).unexplained.length, 1);
    assert.equal(checkDeliveries([d("w2", "a", 30), d("w1", "a", 30), d("w1", "a", 30)], [takeover]).unexplained.length, 1);
    // A second takeover (w1 -> w3 from before the record) explains the third copy.
    const second: Takeover = { shardId: "s0", from: "w1", by: "w3", checkpoint: "25" };
    assert.deepEqual(checkDeliveries([d("w2", "a", 30), d("w1", "a", 30), d("w3", "a", 30)], [takeover, second]).unexplained, []);
  });

  it("counts a sentinel checkpoint (TRIM_HORIZON) as before every record, and a record under another sequence number as another record", () => {
    const fromStart: Takeover = { ...takeover, checkpoint: "TRIM_HORIZON" };
    assert.deepEqual(checkDeliveries([d("w2", "a", 1), d("w1", "a", 1)], [fromStart]).unexplained, []);
    // The producer sent it twice (a lost response): two stream records, no duplicate delivery.
    const r = checkDeliveries([d("w2", "a", 1), d("w1", "a", 2)], []);
    assert.equal(r.duplicates, 0);
    assert.equal(r.records, 2);
  });

  it("lists at most 10 unexplained copies, then how many more", () => {
    const many = Array.from({ length: 15 }, (_, i) => [d("w1", `x${i}`, i, "s9"), d("w3", `x${i}`, i, "s9")]).flat();
    const r = checkDeliveries(many, []);
    assert.equal(r.unexplained.length, 11);
    assert.equal(r.unexplained[10], "... 5 more");
  });
});
