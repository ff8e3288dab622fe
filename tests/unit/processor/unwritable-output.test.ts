/**
 * An output the target stream cannot take (over Kinesis's 1 MiB per record, partition key included) is a
 * poison record at once: it goes to the dead-letter queue with the reason, nothing is resent, the rest of
 * the batch is written once, and the batch succeeds. A dead-letter message never exceeds SQS's 256 KiB:
 * a record too large to carry is named by its size and position instead.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createHandler, TargetRecord } from "../../../model/processor/handler";
import { PoisonRecordMessage } from "../../../model/processor/dead-letter";
import { kinesisEvent, SourceRecord, tumblingWindowEvent } from "../../../model/processor/events";
import { LocalProcessor } from "../../../local/processor";
import { parseLakeConfig } from "../../../model/config";
import { aggregate as kplAggregate } from "../../../model/kpl";

const CTX = { shardId: "shardId-000000000003", streamArn: "arn:aws:kinesis:us-east-1:000000000000:stream/s", region: "us-east-1", invokeIdentityArn: "arn:aws:iam::000000000000:role/r" };
const MiB = 1024 * 1024;
let seq = 0;
const rec = (data: string | Uint8Array, partitionKey = "k"): SourceRecord => ({
  data: typeof data === "string" ? Buffer.from(data, "utf8") : data,
  partitionKey,
  sequenceNumber: String(49600000000000000000000000000000000000000000000000000000n + BigInt(++seq)),
  approximateArrivalTimestamp: new Date("2026-11-26T12:00:00Z"),
});

function setup(spec: Record<string, unknown>) {
  const requests: TargetRecord[][] = [];
  const letters: PoisonRecordMessage[] = [];
  const handler = createHandler({
    spec: { route: "r", from: "ingest/persons", to: "curated/slim", ...spec },
    putRecords: async (records) => {
      requests.push(records);
      // As Kinesis: a request with a record over 1 MiB (data + partition key) fails as a whole.
      if (records.some((r) => r.data.length + Buffer.byteLength(r.partitionKey) > MiB)) throw new Error("ValidationException: Member must have length less than or equal to 1048576");
      return records.map(() => ({}));
    },
    deadLetter: async (m) => {
      if (Buffer.byteLength(JSON.stringify(m)) > 256 * 1024) throw new Error("over 256 KiB");
      letters.push(m as PoisonRecordMessage);
    },
    sleep: async () => undefined,
    log: () => undefined,
  });
  return { handler, requests, letters };
}

describe("outputs the target cannot take", () => {
  it("dead-letters a transformed record over 1 MiB at once, slimmed to fit the queue, and writes the rest once", async () => {
    const pad = "x".repeat(200 * 1024);
    const { handler, requests, letters } = setup({ transform: { set: { pad } } });
    const small = rec('{"id":1}\n', "a");
    const large = rec(`{"id":2,"body":"${"y".repeat(900 * 1024)}"}\n`, "b"); // under 1 MiB in, over it with the pad
    const after = rec('{"id":3}\n', "c");
    const response = await handler(kinesisEvent([small, large, after], CTX));
    assert.deepStrictEqual(response.batchItemFailures, [], "the shard moves on");
    assert.strictEqual(requests.length, 1, "nothing is resent");
    assert.deepStrictEqual(requests[0].map((r) => r.partitionKey), ["a", "c"]);
    assert.strictEqual(letters.length, 1);
    const m = letters[0];
    assert.match(m.reason, /1,?048,?576|1 MiB/);
    assert.strictEqual(m.sequenceNumber, large.sequenceNumber);
    assert.strictEqual(m.shardId, CTX.shardId);
    assert.strictEqual(m.partitionKey, "b");
    assert.strictEqual(m.dataBase64, undefined, "the record is too large for the queue: named, not carried");
    assert.strictEqual(m.dataBytes, large.data.length);
    assert.ok(Buffer.byteLength(JSON.stringify(m)) <= 256 * 1024);
  });

  it("keeps a poison record's data in the message when it fits", async () => {
    const { handler, letters } = setup({ transform: { set: { pad: "x".repeat(1000) } } });
    await handler(kinesisEvent([rec("not json\n")], CTX));
    assert.strictEqual(Buffer.from(letters[0].dataBase64!, "base64").toString(), "not json\n");
    assert.strictEqual(letters[0].dataBytes, 9);
  });

  it("names the user record of a KPL aggregate by its index when its output is too large", async () => {
    const { handler, letters, requests } = setup({ transform: { set: { pad: "x".repeat(300 * 1024) } } });
    const agg = kplAggregate([
      { partitionKey: "u1", data: Buffer.from('{"id":1}') },
      { partitionKey: "u2", data: Buffer.from(`{"id":2,"b":"${"z".repeat(800 * 1024)}"}`) },
    ]);
    const response = await handler(kinesisEvent([rec(Buffer.from(agg.data), agg.partitionKey)], CTX));
    assert.deepStrictEqual(response.batchItemFailures, []);
    assert.deepStrictEqual(requests.flat().map((r) => r.partitionKey), ["u1"]);
    assert.deepStrictEqual([letters.length, letters[0].subRecordIndex, letters[0].partitionKey], [1, 1, "u2"]);
  });

  it("dead-letters a window result over 1 MiB instead of failing the window forever, and writes the other groups", async () => {
    const { handler, letters, requests } = setup({ to: "curated/order-stats", aggregate: { windowSeconds: 60, groupBy: ["customer"], count: true, sum: [], min: [], max: [] } });
    const w = { startMs: Date.parse("2026-11-26T12:00:00Z"), endMs: Date.parse("2026-11-26T12:01:00Z") };
    const huge = "c".repeat(MiB - 20);
    const first = await handler(tumblingWindowEvent([rec(`{"customer":"${huge}"}`), rec('{"customer":"c2"}')], CTX, { ...w, state: {}, isFinalInvokeForWindow: false, isWindowTerminatedEarly: false }));
    const final = await handler(tumblingWindowEvent([], CTX, { ...w, state: JSON.parse(JSON.stringify(first.state)), isFinalInvokeForWindow: true, isWindowTerminatedEarly: false }));
    assert.deepStrictEqual(final.batchItemFailures, []);
    assert.deepStrictEqual(requests.flat().map((r) => r.partitionKey), ['["c2"]']);
    assert.strictEqual(letters.length, 1);
    assert.strictEqual(letters[0].kind, "unwritable-window-result");
    assert.ok(Buffer.byteLength(JSON.stringify(letters[0])) <= 256 * 1024);
  });
});

describe("the local dead-letter queue", () => {
  it("refuses a message over SQS's 256 KiB as SQS does, and writes nothing", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dlq-limit-"));
    try {
      const route = parseLakeConfig({ layers: { ingest: { segments: { persons: {} } }, curated: { segments: { slim: {} } } }, routes: [{ from: "ingest/persons", to: "curated/slim" }] }, { project: "datalake", stack: "t" }).routes[0];
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const p = new LocalProcessor({ route, client: {} as any, sourceStream: "s", targetStream: "t", sourceStreamArn: CTX.streamArn, dataDir });
      const message = { kind: "poison-record", reason: "r", dataBase64: "A".repeat(256 * 1024) } as unknown as PoisonRecordMessage;
      await assert.rejects(p.sendToDeadLetterQueue(message), /256 KiB|262,?144/);
      assert.ok(!fs.existsSync(p.deadLetterFile) || fs.readFileSync(p.deadLetterFile, "utf8") === "");
      await p.sendToDeadLetterQueue({ ...message, dataBase64: "AAAA" });
      assert.strictEqual(fs.readFileSync(p.deadLetterFile, "utf8").trim().split("\n").length, 1);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
