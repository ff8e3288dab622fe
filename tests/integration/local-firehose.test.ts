/**
 * The local Firehose is no kinder than Firehose: S3 object names and hour prefixes from the oldest record's
 * arrival time (UTC), size-or-interval buffering, KPL records de-aggregated, and at-least-once delivery
 * that never skips a record across restarts (its position only advances after an object is on disk).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PutRecordCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { LocalFirehose, LocalWireTap, readWireTapRecords } from "../../local/firehose";
import { aggregate } from "../../model/kpl";
import { SegmentConfig } from "../../model/config";
import { useLocalKinesis } from "../helpers/local-kinesis";

function segment(wireTap: Partial<SegmentConfig["wireTap"]>): SegmentConfig {
  return {
    layer: "ingest",
    name: "persons",
    address: "ingest/persons",
    shards: 1,
    retentionHours: 24,
    wireTap: { bufferSeconds: 300, bufferMiB: 64, compression: "UNCOMPRESSED", ...wireTap },
    consumers: [],
  } as unknown as SegmentConfig;
}

function objects(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? objects(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

async function until(probe: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("local Firehose (wire-tap) against kinesis-local", function () {
  this.timeout(120_000);
  const kinesis = useLocalKinesis();
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-firehose-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function firehose(stream: string, wireTap: Partial<SegmentConfig["wireTap"]>): LocalFirehose {
    return new LocalFirehose({
      client: kinesis.client,
      segment: segment(wireTap),
      streamName: stream,
      deliveryStreamName: "lake-ingest-persons",
      bucketDir: path.join(dir, "bucket"),
      positionFile: path.join(dir, "position.json"),
    });
  }

  it("de-aggregates KPL records, names objects <prefix><name>-1-<UTC time of the oldest record>-<uuid>, one object per size-or-interval buffer", async () => {
    const stream = await kinesis.createStream(kinesis.uniqueName("tap-agg"), 1);
    const users = Array.from({ length: 5 }, (_, i) => ({ partitionKey: `k${i}`, data: Buffer.from(`{"n":${i}}`) }));
    const agg = aggregate(users);
    await kinesis.client.send(new PutRecordCommand({ StreamName: stream, Data: agg.data, PartitionKey: agg.partitionKey }));
    await kinesis.client.send(new PutRecordCommand({ StreamName: stream, Data: Buffer.from('{"n":"plain"}'), PartitionKey: "p" }));
    const tap = firehose(stream, { bufferSeconds: 1 });
    tap.start();
    await until(() => tap.tap.stats.objects.length > 0);
    await tap.stop();
    assert.deepStrictEqual(readWireTapRecords(path.join(dir, "bucket")), ['{"n":0}', '{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}', '{"n":"plain"}']);
    const [file] = objects(path.join(dir, "bucket"));
    const m = /data\/year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/hour=(\d{2})\/lake-ingest-persons-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-\d{2}-\d{2}-[0-9a-f-]{36}$/.exec(file);
    assert.ok(m, file);
    assert.deepStrictEqual(m.slice(1, 5), m.slice(5, 9), "prefix hour and name time agree (both the oldest record's arrival, UTC)");
  });

  it("writes an object when the size hint is reached, before the interval", async () => {
    const stream = await kinesis.createStream(kinesis.uniqueName("tap-size"), 1);
    const big = "x".repeat(100_000);
    const records = Array.from({ length: 12 }, (_, i) => ({ Data: Buffer.from(`{"i":${i},"pad":"${big}"}`), PartitionKey: "k" }));
    await kinesis.client.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
    const tap = firehose(stream, { bufferSeconds: 900, bufferMiB: 1 }); // 1 MiB reached long before 900 s
    tap.start();
    await until(() => tap.tap.stats.objects.length > 0);
    assert.strictEqual(tap.tap.stats.objects.length, 1);
    await tap.stop();
  });

  it("a restart continues after the last object written: nothing skipped, nothing written twice after a clean stop", async () => {
    const stream = await kinesis.createStream(kinesis.uniqueName("tap-restart"), 2);
    const put = (from: number, n: number) =>
      kinesis.client.send(
        new PutRecordsCommand({ StreamName: stream, Records: Array.from({ length: n }, (_, i) => ({ Data: Buffer.from(`{"i":${from + i}}`), PartitionKey: `k${from + i}` })) }),
      );
    await put(0, 50);
    let tap = firehose(stream, { bufferSeconds: 1 });
    tap.start();
    await until(() => tap.tap.stats.records >= 50);
    await tap.stop();
    await put(50, 50);
    tap = firehose(stream, { bufferSeconds: 1 });
    tap.start();
    await until(() => tap.tap.stats.records >= 50);
    await tap.stop();
    const stored = readWireTapRecords(path.join(dir, "bucket")).map((l) => (JSON.parse(l) as { i: number }).i);
    assert.deepStrictEqual([...stored].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  });

  it("a tap that dies before writing its buffer delivers those records again after a restart (at least once, never skipped)", async () => {
    const stream = await kinesis.createStream(kinesis.uniqueName("tap-crash"), 1);
    await kinesis.client.send(
      new PutRecordsCommand({ StreamName: stream, Records: Array.from({ length: 20 }, (_, i) => ({ Data: Buffer.from(`{"i":${i}}`), PartitionKey: "k" })) }),
    );
    const crashed = firehose(stream, { bufferSeconds: 900 });
    crashed.start();
    await until(() => crashed.tap.stats.records >= 20);
    await new Promise((r) => setTimeout(r, 500)); // the reader offers its position meanwhile
    // A crash: the buffer is lost, nothing is flushed or committed (stop reading without stop()), and an
    // object it was writing is left half-written.
    (crashed as unknown as { abort: AbortController }).abort.abort();
    const partial = path.join(dir, "bucket", "data", "year=2026", "month=11", "day=26", "hour=10", "lake-ingest-persons-1-x.partial");
    fs.mkdirSync(path.dirname(partial), { recursive: true });
    fs.writeFileSync(partial, '{"i":0}\n{"i"');
    const tap = firehose(stream, { bufferSeconds: 1 });
    tap.start();
    await until(() => tap.tap.stats.records >= 20);
    await tap.stop();
    assert.strictEqual(readWireTapRecords(path.join(dir, "bucket")).length, 20);
    assert.ok(!fs.existsSync(partial), "a half-written object is removed, as S3 never shows one");
  });
});

describe("local wire-tap buffering", () => {
  it("names an object by its oldest record's arrival, not by the time it is written", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wiretap-time-"));
    try {
      const tap = new LocalWireTap(segment({}), "s", dir, () => new Date("2026-11-26T12:00:00Z"));
      tap.add(Buffer.from("b"), new Date("2026-11-26T10:59:59Z"));
      tap.add(Buffer.from("a"), new Date("2026-11-26T10:30:00Z"));
      tap.close();
      assert.match(path.relative(dir, tap.stats.objects[0]), /^data\/year=2026\/month=11\/day=26\/hour=10\/s-1-2026-11-26-10-30-00-/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("local lake: registered consumers", function () {
  this.timeout(120_000);
  it("registers every segment's `consumers` under the config's names, ACTIVE before the lake is ready", async () => {
    const { parseLakeConfig } = await import("../../model/config");
    const { startLocalLake } = await import("../../local/lake");
    const { ListStreamConsumersCommand } = await import("@aws-sdk/client-kinesis");
    const config = parseLakeConfig(
      { layers: { curated: { segments: { adults: { consumers: ["fraud-model", "audit"] } } } } },
      { project: "datalake", stack: "t" },
    );
    const lake = await startLocalLake({ config, persist: false, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "consumers-")) });
    try {
      const entry = lake.catalog["curated/adults"];
      const out = await lake.client.send(new ListStreamConsumersCommand({ StreamARN: entry.streamArn }));
      const consumers = (out.Consumers ?? []).map((c) => `${c.ConsumerName}:${c.ConsumerStatus}`).sort();
      assert.deepStrictEqual(consumers, ["audit:ACTIVE", "fraud-model:ACTIVE"]);
    } finally {
      await lake.stop();
      fs.rmSync(lake.dataDir, { recursive: true, force: true });
    }
  });
});
