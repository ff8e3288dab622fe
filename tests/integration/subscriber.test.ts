/**
 * The subscriber core against a real kinesis-local emulator: every record exactly once across shards,
 * resuming from a checkpoint, and a shard split while reading. Test data is written with PutRecords.
 */
import * as assert from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  _Record,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from "@aws-sdk/client-kinesis";
import { waitForActive } from "../../runtime/streams";
import { FileCheckpointStore } from "../../runtime/consumer/checkpoint";
import { KinesisSender } from "../../runtime/consumer/shards";
import { subscribe, SubscribeOptions } from "../../runtime/consumer/engine";
import { useLocalKinesis } from "../helpers/local-kinesis";

interface Entry {
  key: string;
  body: Record<string, unknown>;
}

/** Writes the entries in order (500 per call), resending failed entries until all are in. */
async function putAll(client: KinesisClient, streamName: string, entries: Entry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += 500) {
    let batch = entries.slice(i, i + 500);
    while (batch.length) {
      const out = await client.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: batch.map((e) => ({ PartitionKey: e.key, Data: Buffer.from(`${JSON.stringify(e.body)}\n`) })),
        }),
      );
      batch = batch.filter((_, j) => out.Records?.[j]?.ErrorCode);
    }
  }
}

const body = (r: _Record) => JSON.parse(Buffer.from(r.Data!).toString("utf8"));
const ids = (rs: _Record[]) => rs.map((r) => body(r).id as string);
const unique = (n: number, prefix: string): Entry[] =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}-key-${i}`, body: { id: `${prefix}-${i}`, n: i } }));

/** Timing for an emulator: production rate limit, short pauses. */
const QUICK = { emptyReadPauseMs: 100, relistIntervalMs: 300, checkpointIntervalMs: 100 } satisfies Partial<SubscribeOptions>;

async function collect(client: KinesisClient, stream: string, options: Partial<SubscribeOptions>) {
  const out: _Record[] = [];
  const summary = await subscribe(client, stream, {
    from: { type: "trim-horizon" },
    idleTimeoutMs: 15_000, // a safety net: a lost record shows as a short count, not a hang
    ...QUICK,
    write: (r) => {
      out.push(r);
    },
    ...options,
  });
  return { out, summary };
}

/** A key whose records land on each shard, by the shard's hash key range (MD5 of the key). */
async function keyPerShard(client: KinesisClient, stream: string): Promise<string[]> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
  return shards.map((shard) => {
    const [low, high] = [BigInt(shard.HashKeyRange!.StartingHashKey!), BigInt(shard.HashKeyRange!.EndingHashKey!)];
    for (let i = 0; ; i++) {
      const hash = BigInt(`0x${createHash("md5").update(`key-${i}`).digest("hex")}`);
      if (hash >= low && hash <= high) return `key-${i}`;
    }
  });
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function tempFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "subscriber-it-")), "checkpoint.json");
}

describe("subscriber on kinesis-local", function () {
  this.timeout(60_000);
  const lake = useLocalKinesis();

  it("delivers ~3000 records from 4 shards exactly once", async () => {
    const stream = await lake.createStream(lake.uniqueName("sub-all"), 4);
    const entries = unique(3000, "a");
    await putAll(lake.client, stream, entries);
    const { out, summary } = await collect(lake.client, stream, { max: entries.length });
    assert.strictEqual(summary.stopReason, "max");
    assert.strictEqual(summary.shardsRead, 4);
    assert.strictEqual(out.length, 3000);
    assert.deepStrictEqual(ids(out).sort(), ids(entries.map(toRecord)).sort());
  });

  it("reads a 12-shard stream with every reader waiting on the one stop signal, without a listener warning", async () => {
    // Each shard's reader waits on the run's stop signal (pacing sleeps, calls in flight): with 12 shards
    // that is more than Node's default of 10 listeners, which is by design, not a leak (setup.ts fails a
    // test that makes Node warn).
    const stream = await lake.createStream(lake.uniqueName("sub-wide"), 12);
    const entries = unique(600, "w");
    await putAll(lake.client, stream, entries);
    const { out, summary } = await collect(lake.client, stream, { max: entries.length });
    assert.strictEqual(summary.shardsRead, 12);
    assert.deepStrictEqual(ids(out).sort(), ids(entries.map(toRecord)).sort());
  });

  it("resumes after --max from the checkpoint with no record lost or repeated", async () => {
    const stream = await lake.createStream(lake.uniqueName("sub-max"), 4);
    const entries = unique(2000, "m");
    await putAll(lake.client, stream, entries);
    const file = tempFile();
    const first = await collect(lake.client, stream, { max: 700, checkpoint: new FileCheckpointStore(file) });
    assert.strictEqual(first.out.length, 700);
    // --from latest would skip everything: shards with a checkpoint resume after it regardless.
    const second = await collect(lake.client, stream, { max: 1300, checkpoint: new FileCheckpointStore(file) });
    assert.strictEqual(second.out.length, 1300);
    const all = [...ids(first.out), ...ids(second.out)];
    assert.strictEqual(new Set(all).size, all.length, "duplicates");
    assert.deepStrictEqual(all.sort(), ids(entries.map(toRecord)).sort());
    const third = await collect(lake.client, stream, { checkpoint: new FileCheckpointStore(file), idleTimeoutMs: 500 });
    assert.deepStrictEqual(ids(third.out), []);
  });

  it("resumes after an abort (SIGINT) from the checkpoint with no record lost or repeated", async () => {
    const stream = await lake.createStream(lake.uniqueName("sub-abort"), 4);
    const entries = unique(2000, "s");
    await putAll(lake.client, stream, entries);
    const file = tempFile();
    const controller = new AbortController();
    const first: _Record[] = [];
    const summary = await subscribe(lake.client, stream, {
      from: { type: "trim-horizon" },
      ...QUICK,
      checkpoint: new FileCheckpointStore(file),
      signal: controller.signal,
      write: async (r) => {
        if (first.length === 500) controller.abort();
        await new Promise((resolve) => setImmediate(resolve));
        first.push(r);
      },
    });
    assert.strictEqual(summary.stopReason, "aborted");
    assert.ok(first.length >= 501 && first.length < 2000, `${first.length} written`);
    const second = await collect(lake.client, stream, { max: 2000 - first.length, checkpoint: new FileCheckpointStore(file) });
    const all = [...ids(first), ...ids(second.out)];
    assert.strictEqual(new Set(all).size, all.length, "duplicates");
    assert.deepStrictEqual(all.sort(), ids(entries.map(toRecord)).sort());
  });

  it("from latest with a checkpoint: a restart reads every record written after the first start, also on a shard with none written", async () => {
    const stream = await lake.createStream(lake.uniqueName("sub-latest"), 2);
    const [keyA, keyB] = await keyPerShard(lake.client, stream);
    const on = (key: string, prefix: string, n: number): Entry[] =>
      Array.from({ length: n }, (_, i) => ({ key, body: { id: `${prefix}-${i}`, n: i } }));
    // Before the first start: never to be read (latest), not even by the restart.
    const before = [...on(keyA, "before-a", 5), ...on(keyB, "before-b", 5)];
    await putAll(lake.client, stream, before);
    await new Promise((resolve) => setTimeout(resolve, 50));

    // The first run: shard A gets 3 records, --max 3 stops it; shard B gets records only while the run
    // stops (during the last write), so none of them is written: B never gets a sequence number.
    let iterators = 0;
    const client: KinesisSender = {
      async send(command, options) {
        const out = await lake.client.send(command, options);
        if (command instanceof GetShardIteratorCommand) iterators += 1;
        return out;
      },
    };
    const file = tempFile();
    const first: _Record[] = [];
    const during = [...on(keyB, "during-b", 7), ...on(keyA, "during-a", 4)];
    const running = subscribe(client, stream, {
      ...QUICK,
      checkpoint: new FileCheckpointStore(file),
      max: 3,
      idleTimeoutMs: 15_000,
      write: async (r) => {
        first.push(r);
        if (first.length === 3) await putAll(lake.client, stream, during);
      },
    });
    await until(() => iterators === 2, "both shards' iterators");
    const firstA = on(keyA, "first-a", 3);
    await putAll(lake.client, stream, firstA);
    const summary = await running;
    assert.strictEqual(summary.stopReason, "max");
    assert.deepStrictEqual(ids(first), firstA.map((e) => e.body.id));

    // Stopped: both shards receive more.
    const stopped = [...on(keyA, "stopped-a", 6), ...on(keyB, "stopped-b", 8)];
    await putAll(lake.client, stream, stopped);

    // The restart, again from latest with the same checkpoint: every record written after the first start.
    const expected = [...during, ...stopped].map((e) => e.body.id as string);
    const second = await collect(lake.client, stream, {
      from: { type: "latest" },
      checkpoint: new FileCheckpointStore(file),
      max: expected.length,
      idleTimeoutMs: 5_000, // a skipped record shows as a short count
    });
    assert.deepStrictEqual(ids(second.out).sort(), expected.sort());
    assert.strictEqual(second.summary.stopReason, "max");
  });

  it("follows a shard split while reading: nothing lost, per-key order kept, parent read before its children", async () => {
    const stream = await lake.createStream(lake.uniqueName("sub-split"), 2);
    const keys = Array.from({ length: 20 }, (_, k) => `key-${k}`);
    const counters = new Map(keys.map((k) => [k, 0]));
    const round = (times: number): Entry[] =>
      Array.from({ length: times }, () =>
        keys.map((key) => {
          const counter = counters.get(key)! + 1;
          counters.set(key, counter);
          return { key, body: { key, counter, id: `${key}#${counter}` } };
        }),
      ).flat();

    const before = round(40);
    await putAll(lake.client, stream, before);
    const shards = (await lake.client.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    const parent = shards[0];
    const [low, high] = [BigInt(parent.HashKeyRange!.StartingHashKey!), BigInt(parent.HashKeyRange!.EndingHashKey!)];
    const inParent = (key: string) => {
      const hash = BigInt(`0x${createHash("md5").update(key).digest("hex")}`);
      return hash >= low && hash <= high;
    };
    assert.ok(keys.some(inParent) && !keys.every(inParent), "the keys should spread over both shards");

    const out: _Record[] = [];
    let firstRecord!: () => void;
    const started = new Promise<void>((resolve) => (firstRecord = resolve));
    // Small batches at 20 calls/s keep the parent busy for ~1 s, so the split lands mid-read.
    const reading = subscribe(lake.client, stream, {
      from: { type: "trim-horizon" },
      ...QUICK,
      getRecordsLimit: 25,
      minGetRecordsIntervalMs: 50,
      max: 1600,
      idleTimeoutMs: 15_000,
      write: (r) => {
        out.push(r);
        firstRecord();
      },
    });
    await started;
    await lake.client.send(
      new SplitShardCommand({
        StreamName: stream,
        ShardToSplit: parent.ShardId!,
        NewStartingHashKey: ((low + high + 1n) / 2n).toString(),
      }),
    );
    await waitForActive(lake.client, stream);
    const readBeforeSplitDone = out.length;
    const after = round(40);
    await putAll(lake.client, stream, after);
    const summary = await reading;

    assert.ok(readBeforeSplitDone < before.length, "the split happened after everything was read; the test proves nothing");
    assert.strictEqual(summary.stopReason, "max");
    assert.strictEqual(summary.shardsRead, 4, "both children should have been read");
    const got = out.map(body);
    assert.deepStrictEqual(got.map((b) => b.id).sort(), [...before, ...after].map((e) => e.body.id).sort());
    const last = new Map<string, number>();
    for (const b of got) {
      assert.ok(b.counter > (last.get(b.key) ?? 0), `${b.key}: counter ${b.counter} after ${last.get(b.key)}`);
      last.set(b.key, b.counter);
    }
    // Records of parent-range keys written before the split are the parent's; those written after are its children's.
    const isParentRecord = (b: any) => inParent(b.key) && b.counter <= 40;
    const isChildRecord = (b: any) => inParent(b.key) && b.counter > 40;
    const lastParent = got.map(isParentRecord).lastIndexOf(true);
    const firstChild = got.map(isChildRecord).indexOf(true);
    assert.ok(firstChild > lastParent, `a child record (#${firstChild}) came before the parent's last (#${lastParent})`);
  });
});

function toRecord(e: Entry): _Record {
  return { SequenceNumber: "", Data: Buffer.from(JSON.stringify(e.body)) };
}
