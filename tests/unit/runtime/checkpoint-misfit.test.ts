/** A saved position is checked against the shard's listed range, and only against a range that is one. */
import * as assert from "assert";
import { checkpointMisfit } from "../../../runtime/consumer/shards";

const START = "49680795897070810887261357002078432919238702515376619522";
const shard = (end?: string) => ({ id: "shardId-000000000000", parents: [], closed: end !== undefined, startingSequenceNumber: START, endingSequenceNumber: end });

describe("checkpointMisfit", () => {
  it("refuses a position after a closed shard's last sequence number", () => {
    const end = (BigInt(START) + 10n).toString();
    assert.match(checkpointMisfit({ sequenceNumber: (BigInt(end) + 1n).toString() }, shard(end)) ?? "", /after the shard's last/);
    assert.strictEqual(checkpointMisfit({ sequenceNumber: end }, shard(end)), undefined);
  });

  it("makes no upper check against an end below the shard's start (kinesis-local's Long.MAX_VALUE for a closed shard)", () => {
    assert.strictEqual(checkpointMisfit({ sequenceNumber: (BigInt(START) + 5n).toString() }, shard("9223372036854775807")), undefined);
  });

  it("refuses a position before the shard's first", () => {
    assert.match(checkpointMisfit({ sequenceNumber: (BigInt(START) - 1n).toString() }, shard()) ?? "", /before the shard's first/);
  });
});
