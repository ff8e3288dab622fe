/**
 * A transform keeps every value it does not change exactly as published: numbers beyond a double's
 * precision or range, their spelling (1.0, 1E2, -0), and everything else; only the layout becomes compact
 * JSON. Forwarding without a transform stays byte for byte (tests/unit/processor/handler.test.ts).
 */
import * as assert from "assert";
import { createHandler, TargetRecord } from "../../../model/processor/handler";
import { kinesisEvent, SourceRecord } from "../../../model/processor/events";

const CTX = { shardId: "shardId-000000000000", streamArn: "arn:aws:kinesis:us-east-1:000000000000:stream/s", region: "us-east-1", invokeIdentityArn: "arn:aws:iam::000000000000:role/r" };
let seq = 0;
const rec = (text: string, partitionKey = "k"): SourceRecord => ({
  data: Buffer.from(text, "utf8"),
  partitionKey,
  sequenceNumber: String(49600000000000000000000000000000000000000000000000000000n + BigInt(++seq)),
  approximateArrivalTimestamp: new Date("2026-11-26T12:00:00Z"),
});

async function transformed(transform: Record<string, unknown>, texts: string[]): Promise<string[]> {
  const stored: TargetRecord[] = [];
  const handler = createHandler({
    spec: { route: "r", from: "ingest/persons", to: "curated/slim", transform },
    putRecords: async (records) => {
      stored.push(...records);
      return records.map(() => ({}));
    },
    deadLetter: async () => assert.fail("nothing here is poison"),
    sleep: async () => undefined,
    log: () => undefined,
  });
  const response = await handler(kinesisEvent(texts.map((t) => rec(t)), CTX));
  assert.deepStrictEqual(response.batchItemFailures, []);
  return stored.map((r) => Buffer.from(r.data).toString("utf8"));
}

describe("transform keeps values exactly", () => {
  it("keeps integers past 2^53, long decimals, out-of-range numbers and number spellings as published", async () => {
    const got = await transformed({ select: ["id", "big", "price", "tiny", "huge", "one", "e", "neg0", "nested"], set: { via: "route" } }, [
      '{"id":123456789012345678901,"big":-9007199254740993,"price":0.1000000000000000055511151231257827,"tiny":1e-400,"huge":1e400,"one":1.0,"e":1E2,"neg0":-0,"nested":{"a":[12345678901234567890123,2.50]},"drop":1}\n',
    ]);
    assert.deepStrictEqual(got, [
      '{"id":123456789012345678901,"big":-9007199254740993,"price":0.1000000000000000055511151231257827,"tiny":1e-400,"huge":1e400,"one":1.0,"e":1E2,"neg0":-0,"nested":{"a":[12345678901234567890123,2.50]},"via":"route"}\n',
    ]);
  });

  it("renames without touching values, and reads a repeated field as JSON.parse does (the last one)", async () => {
    const got = await transformed({ rename: { id: "orderId" } }, ['{"id":98765432109876543210,"id":123456789012345678901,"s":"\\u00e9\\ud800"}']);
    assert.deepStrictEqual(got, ['{"orderId":123456789012345678901,"s":"é\\ud800"}']);
  });

  it("gives a record nested too deeply to read a reason that says so", async () => {
    const letters: string[] = [];
    const handler = createHandler({
      spec: { route: "r", from: "ingest/persons", to: "curated/slim", transform: { set: { x: 1 } } },
      putRecords: async (records) => records.map(() => ({})),
      deadLetter: async (m) => void letters.push(m.reason),
      sleep: async () => undefined,
      log: () => undefined,
    });
    const deep = `{"a":${"[".repeat(200_000)}${"]".repeat(200_000)}}`;
    await handler(kinesisEvent([rec(deep)], CTX));
    assert.strictEqual(letters.length, 1);
    assert.match(letters[0], /nested/);
  });
});
