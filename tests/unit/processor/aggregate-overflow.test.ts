/**
 * What an aggregate gives when a total leaves the range of a double, the same whether a window's records
 * come in one invocation or many (the state crossing Lambda's JSON between them), and group keys kept
 * exactly as published.
 */
import * as assert from "assert";
import { createHandler, ProcessorEvent, TargetRecord } from "../../../model/processor/handler";
import { SourceRecord, tumblingWindowEvent } from "../../../model/processor/events";
import { AggregateSpec } from "../../../model/processor/spec";

const CTX = { shardId: "shardId-000000000000", streamArn: "arn:aws:kinesis:us-east-1:000000000000:stream/s", region: "us-east-1", invokeIdentityArn: "arn:aws:iam::000000000000:role/r" };
const W = { startMs: Date.parse("2026-11-26T12:00:00Z"), endMs: Date.parse("2026-11-26T12:01:00Z") };
let seq = 0;
const rec = (text: string): SourceRecord => ({
  data: Buffer.from(text, "utf8"),
  partitionKey: "k",
  sequenceNumber: String(49600000000000000000000000000000000000000000000000000000n + BigInt(++seq)),
  approximateArrivalTimestamp: new Date(W.startMs + 1000),
});
const aggregate: AggregateSpec = { windowSeconds: 60, groupBy: ["customer"], count: true, sum: ["amount"], min: ["amount"], max: ["amount"] };

/** Runs a window whose records arrive in `batches` invocations, state through a JSON round trip as Lambda passes it. */
async function runWindow(batches: string[][], spec: AggregateSpec = aggregate): Promise<Record<string, unknown>[]> {
  const stored: TargetRecord[] = [];
  const handler = createHandler({
    spec: { route: "r", from: "ingest/orders", to: "curated/order-stats", aggregate: spec },
    putRecords: async (records) => {
      stored.push(...records);
      return records.map(() => ({}));
    },
    sleep: async () => undefined,
    log: () => undefined,
  });
  const wire = (e: ProcessorEvent) => JSON.parse(JSON.stringify(e)) as ProcessorEvent;
  let state: Record<string, unknown> = {};
  for (const batch of batches) {
    const out = await handler(wire(tumblingWindowEvent(batch.map(rec), CTX, { ...W, state, isFinalInvokeForWindow: false, isWindowTerminatedEarly: false })));
    state = JSON.parse(JSON.stringify(out.state));
  }
  await handler(wire(tumblingWindowEvent([], CTX, { ...W, state, isFinalInvokeForWindow: true, isWindowTerminatedEarly: false })));
  return stored.map((r) => JSON.parse(Buffer.from(r.data).toString("utf8")) as Record<string, unknown>);
}

describe("aggregate overflow and exact keys", () => {
  const big = ['{"customer":"c1","amount":1e308}', '{"customer":"c1","amount":1e308}', '{"customer":"c1","amount":5}'];

  it("marks a sum that leaves the double range as overflow (null plus the field named in overflow), not a silent null", async () => {
    const [result] = await runWindow([big]);
    assert.deepStrictEqual(result.sum, { amount: null });
    assert.deepStrictEqual(result.overflow, ["sum.amount"]);
    assert.deepStrictEqual([result.count, result.min, result.max], [3, { amount: 5 }, { amount: 1e308 }]);
  });

  it("gives the same across invocations: an overflowed sum in the state stays overflowed, it does not restart from 0", async () => {
    const oneByOne = await runWindow(big.map((r) => [r]));
    assert.deepStrictEqual(oneByOne, await runWindow([big]));
  });

  it("counts a value beyond the double range (1e400) as an overflow of sum and max, and keeps a finite min", async () => {
    const batches = [['{"customer":"c1","amount":1e400}'], ['{"customer":"c1","amount":2}']];
    const [result] = await runWindow(batches);
    assert.deepStrictEqual([result.sum, result.min, result.max, result.overflow], [{ amount: null }, { amount: 2 }, { amount: null }, ["sum.amount", "max.amount"]]);
    assert.deepStrictEqual(await runWindow([batches.flat()]), [result]);
  });

  it("has no overflow field when nothing overflowed, and null (no number seen) stays distinct from overflow", async () => {
    const [result] = await runWindow([['{"customer":"c1","amount":"n/a"}']]);
    assert.deepStrictEqual(result, { window: { start: "2026-11-26T12:00:00Z", end: "2026-11-26T12:01:00Z" }, key: { customer: "c1" }, count: 1, sum: { amount: null }, min: { amount: null }, max: { amount: null } });
  });

  it("keeps group keys exactly as published: two customers that differ past 2^53 stay two groups", async () => {
    const stored: TargetRecord[] = [];
    const handler = createHandler({
      spec: { route: "r", from: "ingest/orders", to: "curated/order-stats", aggregate: { ...aggregate, sum: [], min: [], max: [] } },
      putRecords: async (records) => {
        stored.push(...records);
        return records.map(() => ({}));
      },
      sleep: async () => undefined,
      log: () => undefined,
    });
    const first = await handler(
      tumblingWindowEvent([rec('{"customer":123456789012345678901}'), rec('{"customer":123456789012345678902}'), rec('{"customer":1.0}')], CTX, {
        ...W,
        state: {},
        isFinalInvokeForWindow: false,
        isWindowTerminatedEarly: false,
      }),
    );
    await handler(tumblingWindowEvent([rec('{"customer":1}')], CTX, { ...W, state: JSON.parse(JSON.stringify(first.state)), isFinalInvokeForWindow: true, isWindowTerminatedEarly: false }));
    const lines = stored.map((r) => Buffer.from(r.data).toString("utf8").replace(/^.*"key":(\{[^}]*\}),"count":(\d+).*$/, "$1 $2"));
    assert.deepStrictEqual(lines.sort(), ['{"customer":123456789012345678901} 1', '{"customer":123456789012345678902} 1', '{"customer":1} 2'].sort());
    assert.deepStrictEqual(stored.map((r) => r.partitionKey).sort(), ["[123456789012345678901]", "[123456789012345678902]", "[1]"].sort());
  });
});
