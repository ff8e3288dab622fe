/**
 * The library (lib/, `import ... from "datalake"`) against a real Kinesis emulator: publish and consume
 * through resharding and enhanced fan-out, replay of a local archive with its checkpoint, and the typed
 * errors a caller can cause.
 */
import * as assert from "assert";
import {
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  RegisterStreamConsumerCommand,
  SplitShardCommand,
} from "@aws-sdk/client-kinesis";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { waitForActive } from "../../runtime/streams";
import { wireTapObjectKey } from "../../model/naming";
import {
  ArchiveError,
  Batch,
  Catalog,
  CheckpointError,
  CheckpointInUseError,
  ConfigurationError,
  DeliveryError,
  openLake,
  SegmentNotFoundError,
  StreamNotFoundError,
  UnavailableError,
} from "../../lib";
import { useLocalKinesis } from "../helpers/local-kinesis";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the library against a local Kinesis", function () {
  this.timeout(180_000);
  const kinesis = useLocalKinesis();
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-library-"))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const open = (catalog: Catalog) => openLake({ catalog, endpoint: kinesis.endpoint, env: {} });
  const person = (i: number) => ({ data: JSON.stringify({ id: i, key: `key-${i % 20}` }), partitionKey: `key-${i % 20}` });
  const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

  /** Consumes until idle; returns every batch as [shardId, ids]. */
  async function consumeAll(lake: Awaited<ReturnType<typeof open>>, options: { checkpoint?: string; consumer?: string }) {
    const batches: Array<{ shardId: string; ids: number[]; keys: string[]; aggregated: boolean }> = [];
    const summary = await lake.consume({
      segment: "app/persons",
      from: "trim-horizon",
      idleTimeoutMs: 3000,
      ...options,
      eachBatch: (batch: Batch) => {
        const values = batch.records.map((r) => JSON.parse(r.data.toString()) as { id: number; key: string });
        batches.push({ shardId: batch.shardId, ids: values.map((v) => v.id), keys: values.map((v) => v.key), aggregated: batch.records.every((r) => r.subSequenceNumber !== undefined) });
      },
    });
    return { batches, summary };
  }

  /** Per key, ids in increasing order: a child shard's records never before its parent's. */
  function assertKeyOrder(batches: Array<{ ids: number[]; keys: string[] }>): void {
    const byKey = new Map<string, number[]>();
    for (const b of batches) b.ids.forEach((id, i) => byKey.set(b.keys[i], [...(byKey.get(b.keys[i]) ?? []), id]));
    for (const [key, ids] of byKey) assert.deepStrictEqual(ids, [...ids].sort((a, b) => a - b), `key ${key} out of order`);
  }

  it("publishes KPL-aggregated records and consumes each user record once with a checkpoint, across a shard split, keys in order", async () => {
    const stream = await kinesis.createStream(kinesis.uniqueName("lib"), 2);
    const lake = await open({ "app/persons": { streamName: stream } });
    const checkpoint = path.join(dir, "persons.json");
    try {
      const published = await lake.publish({ segment: "app/persons", records: range(0, 2000).map(person), aggregate: true });
      assert.strictEqual(published.sent, 2000);
      assert.ok(published.kinesisRecords < 200, `aggregation packed ${published.kinesisRecords} Kinesis records`);
      const first = await consumeAll(lake, { checkpoint });
      assert.deepStrictEqual(first.batches.flatMap((b) => b.ids).sort((a, b) => a - b), range(0, 2000));
      assert.ok(first.batches.every((b) => b.aggregated), "user records of aggregated records carry subSequenceNumber");
      assertKeyOrder(first.batches);

      await kinesis.client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: "shardId-000000000000", NewStartingHashKey: (2n ** 126n).toString() }));
      await waitForActive(kinesis.client, stream);
      await lake.publish({ segment: "app/persons", records: range(2000, 500).map(person) });
      const second = await consumeAll(lake, { checkpoint });
      // Only what came since the checkpoint, and the closed parent's tail before its children.
      assert.deepStrictEqual(second.batches.flatMap((b) => b.ids).sort((a, b) => a - b), range(2000, 500));
      assertKeyOrder([...first.batches, ...second.batches]);
      assert.strictEqual(second.summary.shards, 4);
      const saved = JSON.parse(fs.readFileSync(checkpoint, "utf8")).shards;
      assert.strictEqual(saved["shardId-000000000000"].ended, true);
    } finally {
      await lake.close();
    }
  });

  it("consumes through an enhanced fan-out consumer named in the options, with the same guarantees", async () => {
    const stream = await kinesis.createStream(kinesis.uniqueName("lib-efo"), 2);
    const streamArn = (await kinesis.client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!.StreamARN!;
    const registered = await kinesis.client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: "app-reader" }));
    while ((await kinesis.client.send(new DescribeStreamConsumerCommand({ ConsumerARN: registered.Consumer!.ConsumerARN! }))).ConsumerDescription?.ConsumerStatus !== "ACTIVE") await sleep(200);
    const lake = await open({ "app/persons": { streamName: stream } });
    try {
      await lake.publish({ segment: "app/persons", records: range(0, 300).map(person) });
      const { batches } = await consumeAll(lake, { consumer: "app-reader", checkpoint: path.join(dir, "efo.json") });
      assert.deepStrictEqual(batches.flatMap((b) => b.ids).sort((a, b) => a - b), range(0, 300));
      assertKeyOrder(batches);
      await assert.rejects(consumeAll(lake, { consumer: "nobody" }), (err: unknown) => err instanceof ConfigurationError && /consumer nobody is not registered on stream/.test(err.message));
    } finally {
      await lake.close();
    }
  });

  it("replays a window of a local archive into a segment, resumes by its checkpoint, and stops on a corrupt object with ArchiveError", async () => {
    const target = await kinesis.createStream(kinesis.uniqueName("lib-replay"), 1);
    const bucket = path.join(dir, "bucket");
    const write = (iso: string, id: string, body: Buffer) => {
      const file = path.join(bucket, wireTapObjectKey("lake-app-persons", "GZIP", new Date(iso), id));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, body);
    };
    const lines = (ids: number[]) => zlib.gzipSync(Buffer.from(ids.map((i) => `{"id":${i},"age":${i}}\n`).join("")));
    write("2026-11-26T10:05:00Z", "a", lines(range(0, 600)));
    write("2026-11-26T10:40:00Z", "b", lines(range(600, 100)));
    write("2026-11-26T12:00:00Z", "c", lines(range(700, 50))); // outside the window
    const catalog: Catalog = {
      "app/persons": { streamName: "unused-source", bucketName: "lake-app-persons-000000000000", localArchiveDir: bucket },
      "app/replayed": { streamName: target },
    };
    await kinesis.createStream("unused-source", 1);
    const lake = await open(catalog);
    const window = { segment: "app/persons", into: "app/replayed", from: new Date("2026-11-26T10:00:00Z"), to: new Date("2026-11-26T11:00:00Z") };
    try {
      const checkpoint = path.join(dir, "replay.json");
      const done = await lake.replay({ ...window, checkpoint, filter: { age: [{ numeric: [">=", 100] }] } });
      assert.strictEqual(done.objects, 2);
      assert.strictEqual(done.published, 600);
      const again = await lake.replay({ ...window, checkpoint, filter: { age: [{ numeric: [">=", 100] }] } });
      assert.ok(again.alreadyCompleted, "a finished replay with the same checkpoint does nothing");
      assert.strictEqual(again.published, 0);

      const ids: number[] = [];
      await lake.consume({
        segment: "app/replayed",
        from: "trim-horizon",
        idleTimeoutMs: 2000,
        eachBatch: (b) => void ids.push(...b.records.map((r) => JSON.parse(r.data.toString()).id as number)),
      });
      assert.deepStrictEqual(ids.sort((a, b) => a - b), range(100, 600));

      write("2026-11-26T10:20:00Z", "z", Buffer.from("not gzip"));
      await assert.rejects(lake.replay({ ...window, dryRun: true }), (err: unknown) => err instanceof ArchiveError && /corrupt object/.test(err.message));
      const skipped = await lake.replay({ ...window, dryRun: true, onCorrupt: "skip" });
      assert.strictEqual(skipped.corrupt.length, 1);
      await assert.rejects(lake.replay({ ...window, into: "app/persons" }), (err: unknown) => err instanceof ConfigurationError && /allowSourceReplay: true/.test(err.message));
    } finally {
      await lake.close();
    }
  });

  it("throws typed errors, each saying what to fix, for what a caller can get wrong", async () => {
    const stream = await kinesis.createStream(kinesis.uniqueName("lib-errors"), 1);
    const lake = await open({ "app/persons": { streamName: stream }, "app/gone": { streamName: "no-such-stream" } });
    try {
      await assert.rejects(lake.publish({ segment: "app/person", records: [] }), (err: unknown) => {
        assert.ok(err instanceof SegmentNotFoundError);
        assert.deepStrictEqual(err.known, ["app/gone", "app/persons"]);
        assert.strictEqual(err.message, 'unknown segment "app/person" in the catalog object; known segments: app/gone, app/persons');
        return true;
      });
      await assert.rejects(lake.publish({ segment: "app/gone", records: [] }), (err: unknown) => err instanceof StreamNotFoundError && /stream "no-such-stream" of segment app\/gone/.test(err.message));

      // A record over Kinesis's 1 MiB is refused up front, counted, and reported with the summary.
      await assert.rejects(lake.publish({ segment: "app/persons", records: [{ data: "x" }, { data: Buffer.alloc(1024 * 1024 + 1) }] }), (err: unknown) => {
        assert.ok(err instanceof DeliveryError);
        assert.strictEqual(err.summary.sent, 1);
        assert.strictEqual(err.summary.failed.count, 1);
        return /^1 of 2 records could not be delivered/.test(err.message);
      });
      await assert.rejects(lake.publish({ segment: "app/persons", records: [{ data: 42 as unknown as string }] }), ConfigurationError);

      // Two consumers on one checkpoint file: the second is refused while the first runs.
      const file = path.join(dir, "shared.json");
      const stop = new AbortController();
      const running = lake.consume({ segment: "app/persons", checkpoint: file, signal: stop.signal, eachBatch: () => undefined });
      await sleep(500);
      await assert.rejects(lake.consume({ segment: "app/persons", checkpoint: file, eachBatch: () => undefined }), CheckpointInUseError);
      stop.abort();
      assert.strictEqual((await running).stopReason, "aborted");
      // A checkpoint of another stream is refused, not read as this one's.
      const other = path.join(dir, "other.json");
      fs.writeFileSync(other, JSON.stringify({ version: 1, stream: "another-stream", shards: {} }));
      await assert.rejects(lake.consume({ segment: "app/persons", checkpoint: other, eachBatch: () => undefined }), (err: unknown) => err instanceof CheckpointError && /belongs to stream "another-stream"/.test(err.message));
      await assert.rejects(lake.consume({ segment: "app/persons", from: new Date(Date.now() + 3_600_000), eachBatch: () => undefined }), ConfigurationError);
    } finally {
      await lake.close();
    }

    await assert.rejects(openLake({ catalog: { "a/b": { streamName: "s" } }, endpoint: "ftp://127.0.0.1:1", env: {} }), ConfigurationError);
    await assert.rejects(openLake({ env: {} }), (err: unknown) => err instanceof ConfigurationError && /^no catalog: /.test(err.message));
    await assert.rejects(openLake({ catalog: path.join(dir, "missing.json"), env: {} }), ConfigurationError);
    // Nobody answering: the call's deadline and retry budget end in UnavailableError, not a hang.
    const down = await openLake({ catalog: { "a/b": { streamName: "s" } }, endpoint: "http://127.0.0.1:9", callTimeoutMs: 1000, env: {} });
    await assert.rejects(down.publish({ segment: "a/b", records: [{ data: "x" }] }), UnavailableError);
    await down.close();
  });
});
