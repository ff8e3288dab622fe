/**
 * The processor handler on events shaped exactly as Lambda's Kinesis event source mapping delivers them:
 * byte-identical forwarding under the original partition keys, transform, aggregate, bounded resends,
 * partial batch failures and poison records.
 */
import * as assert from "assert";
import { createHandler, PutResult, TargetRecord } from "../../../model/processor/handler";
import { PoisonRecordMessage } from "../../../model/processor/dead-letter";
import { kinesisEvent, SourceContext, SourceRecord, tumblingWindowEvent } from "../../../model/processor/events";
import { ProcessorSpec } from "../../../model/processor/spec";
import { aggregate as kplAggregate } from "../../../model/kpl";

const CTX: SourceContext = {
  shardId: "shardId-000000000001",
  streamArn: "arn:aws:kinesis:eu-west-1:123456789012:stream/acme-ingest-persons",
  region: "eu-west-1",
  invokeIdentityArn: "arn:aws:iam::123456789012:role/acme-r-route",
};
const at = new Date("2026-11-26T12:00:00.250Z");
let seq = 0;
const rec = (text: string | Uint8Array, partitionKey = "k1", arrival = at): SourceRecord => ({
  data: typeof text === "string" ? Buffer.from(text, "utf8") : text,
  partitionKey,
  sequenceNumber: String(49600000000000000000000000000000000000000000000000000000n + BigInt(++seq)),
  approximateArrivalTimestamp: arrival,
});

/** A fake target stream: records each request; `fail` decides per entry and attempt. */
function target(fail: (r: TargetRecord, attempt: number) => string | undefined = () => undefined) {
  const stored: TargetRecord[] = [];
  const requests: TargetRecord[][] = [];
  const attempts = new Map<TargetRecord, number>();
  const putRecords = async (records: TargetRecord[]): Promise<PutResult[]> => {
    requests.push(records);
    return records.map((r) => {
      const n = (attempts.get(r) ?? 0) + 1;
      attempts.set(r, n);
      const code = fail(r, n);
      if (code) return { errorCode: code, errorMessage: "x" };
      stored.push(r);
      return {};
    });
  };
  return { stored, requests, putRecords };
}

const spec = (extra: Partial<ProcessorSpec> = {}): ProcessorSpec => ({ route: "r", from: "ingest/persons", to: "curated/adults", ...extra });
const noSleep = async () => undefined;

describe("processor handler", function () {
  it("forwards every record byte for byte (trailing newline, non-JSON, binary) under its original partition key", async () => {
    const t = target();
    const handler = createHandler({ spec: spec(), putRecords: t.putRecords, sleep: noSleep, log: () => undefined });
    const inputs = [
      rec('{"name":"dennis 1","age":19}\n', "1"),
      rec('{ "spaced" :  true }', "two"),
      rec("not json at all\n", "3"),
      rec(new Uint8Array([0, 255, 10, 13, 0xf3]), "bin"),
      rec('{"name":"ünïcødé","age":40}\n', "4"),
    ];
    const event = kinesisEvent(inputs, CTX);
    const response = await handler(event);
    assert.deepStrictEqual(response, { batchItemFailures: [] });
    assert.strictEqual(t.stored.length, inputs.length);
    t.stored.forEach((out, i) => {
      assert.ok(Buffer.from(out.data).equals(Buffer.from(inputs[i].data)), `record ${i} changed: ${Buffer.from(out.data).toString("hex")}`);
      assert.strictEqual(out.partitionKey, inputs[i].partitionKey);
    });
  });

  it("resends exactly the failed entries, and reports what still fails as batch item failures", async () => {
    // "b" fails twice then succeeds; "d" always fails.
    const t = target((r, n) => {
      const text = Buffer.from(r.data).toString();
      if (text === "b" && n <= 2) return "ProvisionedThroughputExceededException";
      if (text === "d") return "InternalFailure";
      return undefined;
    });
    const handler = createHandler({ spec: spec(), putRecords: t.putRecords, sleep: noSleep, log: () => undefined, maxPutAttempts: 4 });
    const inputs = ["a", "b", "c", "d", "e"].map((x) => rec(x));
    const response = await handler(kinesisEvent(inputs, CTX));
    assert.deepStrictEqual(response.batchItemFailures, [{ itemIdentifier: inputs[3].sequenceNumber }]);
    assert.deepStrictEqual(t.requests.map((req) => req.map((r) => Buffer.from(r.data).toString())), [
      ["a", "b", "c", "d", "e"],
      ["b", "d"],
      ["b", "d"],
      ["d"],
    ]);
    assert.deepStrictEqual(t.stored.map((r) => Buffer.from(r.data).toString()).sort(), ["a", "b", "c", "e"]);
  });

  it("retries a failed PutRecords request a bounded number of times, then reports the records as failures", async () => {
    let calls = 0;
    const handler = createHandler({
      spec: spec(),
      putRecords: async () => {
        calls++;
        throw new Error("socket hang up");
      },
      sleep: noSleep,
      log: () => undefined,
      maxPutAttempts: 3,
    });
    const inputs = [rec("x"), rec("y")];
    const response = await handler(kinesisEvent(inputs, CTX));
    assert.strictEqual(calls, 3);
    assert.deepStrictEqual(response.batchItemFailures.map((f) => f.itemIdentifier), inputs.map((r) => r.sequenceNumber));
  });

  it("splits more than 500 records into PutRecords requests of at most 500", async () => {
    const t = target();
    const handler = createHandler({ spec: spec(), putRecords: t.putRecords, sleep: noSleep, log: () => undefined });
    await handler(kinesisEvent(Array.from({ length: 1203 }, (_, i) => rec(`r${i}`, `k${i}`)), CTX));
    assert.deepStrictEqual(t.requests.map((r) => r.length), [500, 500, 203]);
    assert.deepStrictEqual(t.stored.map((r) => Buffer.from(r.data).toString()), Array.from({ length: 1203 }, (_, i) => `r${i}`));
  });

  it("unpacks KPL aggregated records: each user record forwarded with its own bytes and key, filtered by the route's filter", async () => {
    const t = target();
    const handler = createHandler({
      spec: spec({ filter: { age: [{ numeric: [">=", 18] }] } }),
      putRecords: t.putRecords,
      sleep: noSleep,
      log: () => undefined,
    });
    const users = [
      { partitionKey: "a", data: Buffer.from('{"age":30}\n') },
      { partitionKey: "b", data: Buffer.from('{"age":3}\n') },
      { partitionKey: "c", data: Buffer.from('{"age":18}\n') },
    ];
    const agg = kplAggregate(users);
    const response = await handler(kinesisEvent([rec(Buffer.from(agg.data), agg.partitionKey)], CTX));
    assert.deepStrictEqual(response.batchItemFailures, []);
    assert.deepStrictEqual(
      t.stored.map((r) => [Buffer.from(r.data).toString(), r.partitionKey]),
      [
        ['{"age":30}\n', "a"],
        ['{"age":18}\n', "c"],
      ],
    );
  });

  it("filters plain records too (the mapping filters only with filterAt: mapping), dropping non-JSON ones as Lambda does", async () => {
    const t = target();
    const handler = createHandler({ spec: spec({ filter: { age: [{ numeric: [">=", 18] }] } }), putRecords: t.putRecords, sleep: noSleep, log: () => undefined });
    const response = await handler(kinesisEvent([rec('{"age":30}\n', "a"), rec('{"age":3}\n', "b"), rec("age=40\n", "c"), rec('{"age":18}', "d")], CTX));
    assert.deepStrictEqual(response.batchItemFailures, [], "filtered records are done, not failed");
    assert.deepStrictEqual(t.stored.map((r) => r.partitionKey), ["a", "d"]);
    // Without a filter every record goes through, JSON or not.
    const all = target();
    await createHandler({ spec: spec(), putRecords: all.putRecords, sleep: noSleep, log: () => undefined })(kinesisEvent([rec("age=40\n", "c"), rec('{"age":3}', "b")], CTX));
    assert.deepStrictEqual(all.stored.map((r) => r.partitionKey), ["c", "b"]);
  });

  describe("transform", () => {
    const transform = { select: ["id", "name", "age"], rename: { name: "fullName" }, set: { source: "ingest" } };

    it("selects, renames and sets, keeps the partition key and the trailing newline", async () => {
      const t = target();
      const handler = createHandler({ spec: spec({ transform }), putRecords: t.putRecords, sleep: noSleep, log: () => undefined });
      await handler(kinesisEvent([rec('{"id":7,"name":"dennis 7","age":20,"secret":"x"}\n', "7"), rec('{"id":8,"age":30}', "8")], CTX));
      assert.deepStrictEqual(
        t.stored.map((r) => [Buffer.from(r.data).toString(), r.partitionKey]),
        [
          ['{"id":7,"fullName":"dennis 7","age":20,"source":"ingest"}\n', "7"],
          ['{"id":8,"age":30,"source":"ingest"}', "8"],
        ],
      );
    });

    it("sends a record that is not a JSON object straight to the dead-letter queue, with its bytes, and moves on", async () => {
      const t = target();
      const letters: PoisonRecordMessage[] = [];
      const handler = createHandler({
        spec: spec({ transform }),
        putRecords: t.putRecords,
        deadLetter: async (m) => void letters.push(m as PoisonRecordMessage),
        sleep: noSleep,
        log: () => undefined,
      });
      const poison = rec("not json\n", "p");
      const response = await handler(kinesisEvent([rec('{"id":1}\n'), poison, rec("[1,2]"), rec('{"id":2}\n')], CTX));
      assert.deepStrictEqual(response.batchItemFailures, []);
      assert.strictEqual(t.stored.length, 2);
      assert.strictEqual(letters.length, 2);
      assert.strictEqual(Buffer.from(letters[0].dataBase64!, "base64").toString(), "not json\n");
      assert.deepStrictEqual(
        [letters[0].kind, letters[0].sequenceNumber, letters[0].partitionKey, letters[0].shardId, letters[0].route],
        ["poison-record", poison.sequenceNumber, "p", CTX.shardId, "r"],
      );
    });

    it("reports a poison record as a batch item failure when the dead-letter queue cannot take it", async () => {
      const t = target();
      const poison = rec("nope");
      const handler = createHandler({
        spec: spec({ transform }),
        putRecords: t.putRecords,
        deadLetter: async () => {
          throw new Error("AccessDenied");
        },
        sleep: noSleep,
        log: () => undefined,
      });
      const response = await handler(kinesisEvent([rec('{"id":1}'), poison], CTX));
      assert.deepStrictEqual(response.batchItemFailures, [{ itemIdentifier: poison.sequenceNumber }]);
    });
  });

  describe("aggregate (tumbling windows)", () => {
    const aggregate = { windowSeconds: 60, groupBy: ["customer"], count: true, sum: ["amount"], min: ["amount"], max: [] as string[] };
    const w = { startMs: Date.parse("2026-11-26T12:00:00Z"), endMs: Date.parse("2026-11-26T12:01:00Z") };

    it("carries the state across invocations and writes one record per group on the final invocation", async () => {
      const t = target();
      const handler = createHandler({ spec: spec({ to: "curated/order-stats", aggregate }), putRecords: t.putRecords, sleep: noSleep, log: () => undefined });
      const first = await handler(
        tumblingWindowEvent(
          [rec('{"customer":"c1","amount":10}\n', "o1"), rec('{"customer":"c2","amount":2.5}\n', "o2"), rec('{"customer":"c1","amount":5}\n', "o3")],
          CTX,
          { ...w, state: {}, isFinalInvokeForWindow: false, isWindowTerminatedEarly: false },
        ),
      );
      assert.deepStrictEqual(first.batchItemFailures, []);
      assert.strictEqual(t.stored.length, 0, "nothing is written before the window ends");
      assert.ok(first.state, "a windowed response must carry state");
      const second = await handler(
        tumblingWindowEvent([rec('{"customer":"c1","amount":"n/a"}\n', "o4")], CTX, {
          ...w,
          state: JSON.parse(JSON.stringify(first.state)),
          isFinalInvokeForWindow: false,
          isWindowTerminatedEarly: false,
        }),
      );
      const final = await handler(
        tumblingWindowEvent([], CTX, { ...w, state: JSON.parse(JSON.stringify(second.state)), isFinalInvokeForWindow: true, isWindowTerminatedEarly: false }),
      );
      assert.deepStrictEqual(final, { state: {}, batchItemFailures: [] });
      assert.deepStrictEqual(
        t.stored.map((r) => [Buffer.from(r.data).toString(), r.partitionKey]),
        [
          ['{"window":{"start":"2026-11-26T12:00:00Z","end":"2026-11-26T12:01:00Z"},"key":{"customer":"c1"},"count":3,"sum":{"amount":15},"min":{"amount":5}}', '["c1"]'],
          ['{"window":{"start":"2026-11-26T12:00:00Z","end":"2026-11-26T12:01:00Z"},"key":{"customer":"c2"},"count":1,"sum":{"amount":2.5},"min":{"amount":2.5}}', '["c2"]'],
        ],
      );
    });

    it("fails the final invocation (so Lambda retries it with the same state) when results cannot be stored", async () => {
      const t = target(() => "InternalFailure");
      const handler = createHandler({ spec: spec({ aggregate }), putRecords: t.putRecords, sleep: noSleep, log: () => undefined, maxPutAttempts: 2 });
      await assert.rejects(
        handler(tumblingWindowEvent([rec('{"customer":"c1","amount":1}')], CTX, { ...w, state: {}, isFinalInvokeForWindow: true, isWindowTerminatedEarly: false })),
        /window results/,
      );
    });

    it("stops folding at an undeliverable poison record, so the records Lambda re-delivers are not counted twice", async () => {
      const t = target();
      const handler = createHandler({ spec: spec({ aggregate }), putRecords: t.putRecords, sleep: noSleep, log: () => undefined });
      const poison = rec("garbage");
      const response = await handler(
        tumblingWindowEvent([rec('{"customer":"c1","amount":1}'), poison, rec('{"customer":"c1","amount":100}')], CTX, {
          ...w,
          state: {},
          isFinalInvokeForWindow: false,
          isWindowTerminatedEarly: false,
        }),
      );
      assert.deepStrictEqual(response.batchItemFailures, [{ itemIdentifier: poison.sequenceNumber }]);
      assert.strictEqual(JSON.stringify(response.state), '{"groups":{"[\\"c1\\"]":{"count":1,"sum":{"amount":1},"min":{"amount":1},"max":{}}}}');
    });
  });
});
