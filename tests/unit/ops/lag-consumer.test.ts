/**
 * `npm run lag -- --consumer NAME` on AWS reads CloudWatch, which no emulator here provides: stub clients
 * check which metric and dimensions are asked for and how the answer is read.
 */
import * as assert from "assert";
import { consumerLag } from "../../../apps/lag/consumer";
import { UserError } from "../../../runtime/errors";

/* eslint-disable @typescript-eslint/no-explicit-any */
const kinesis = (consumerExists = true) => ({
  async send(command: any) {
    const name = command.constructor.name;
    if (name === "DescribeStreamSummaryCommand") return { StreamDescriptionSummary: { StreamARN: "arn:aws:kinesis:eu-west-1:1:stream/s" } };
    if (name === "DescribeStreamConsumerCommand") {
      if (!consumerExists) throw Object.assign(new Error("not found"), { name: "ResourceNotFoundException" });
      assert.deepStrictEqual(command.input, { StreamARN: "arn:aws:kinesis:eu-west-1:1:stream/s", ConsumerName: "fraud" });
      return { ConsumerDescription: { ConsumerStatus: "ACTIVE" } };
    }
    throw new Error(`unexpected ${name}`);
  },
});

describe("lag --consumer (CloudWatch)", () => {
  it("asks for SubscribeToShardEvent.MillisBehindLatest by StreamName and ConsumerName and reports the latest maximum", async () => {
    let asked: any;
    const metrics = {
      async send(command: any) {
        asked = command.input;
        return {
          Datapoints: [
            { Timestamp: new Date("2026-01-01T10:02:00Z"), Maximum: 900 },
            { Timestamp: new Date("2026-01-01T10:04:00Z"), Maximum: 1500 },
            { Timestamp: new Date("2026-01-01T10:03:00Z"), Maximum: 50_000 },
          ],
        };
      },
    };
    const lag = await consumerLag(kinesis(), metrics, "s", "fraud", { now: () => Date.parse("2026-01-01T10:05:00Z") });
    assert.strictEqual(asked.Namespace, "AWS/Kinesis");
    assert.strictEqual(asked.MetricName, "SubscribeToShardEvent.MillisBehindLatest");
    assert.deepStrictEqual(asked.Dimensions, [{ Name: "StreamName", Value: "s" }, { Name: "ConsumerName", Value: "fraud" }]);
    assert.deepStrictEqual(asked.Statistics, ["Maximum"]);
    assert.deepStrictEqual([lag.status, lag.millisBehind, lag.at], ["ACTIVE", 1500, "2026-01-01T10:04:00.000Z"]);
  });

  it("says when there is no data point, and names an unknown consumer as a user error", async () => {
    const none = await consumerLag(kinesis(), { send: async () => ({ Datapoints: [] }) }, "s", "fraud");
    assert.strictEqual(none.millisBehind, undefined);
    await assert.rejects(consumerLag(kinesis(false), { send: async () => ({}) }, "s", "fraud"), (err: Error) => err instanceof UserError && /no such enhanced fan-out consumer/.test(err.message));
  });
});
