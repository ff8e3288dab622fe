/**
 * The library's consume layer (lib/consume.ts over the consumer engine's batch mode) against a STUB Kinesis client:
 * batches per read, one batch of a shard at a time, parents' batches before their children's, and a
 * checkpoint file that holds exactly what the caller checkpointed.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FileCheckpointStore, parseCheckpoint } from "../../../runtime/consumer/checkpoint";
import { aggregate } from "../../../model/kpl";
import { CommittedPositions } from "../../../runtime/consumer/committed-positions";
import { Batch, BatchFailed, runBatches } from "../../../lib/consume";
import { records, shardId, StubKinesis } from "../../helpers/stub-kinesis";

/** Fast engine timing for the stub, and a stop once the stub has nothing more. */
const ENGINE = {
  from: { type: "trim-horizon" } as const,
  minGetRecordsIntervalMs: 1,
  tipGetRecordsIntervalMs: 1,
  emptyReadPauseMs: 5,
  relistIntervalMs: 50,
  checkpointIntervalMs: 20,
};

describe("library consume (batches and checkpoints over the subscriber's engine)", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "lib-consume-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs the layer on `stub` with a checkpoint file; returns the summary and the file's shards. */
  async function run(
    stub: StubKinesis,
    eachBatch: (batch: Batch) => Promise<void> | void,
    options: { autoCheckpoint?: boolean; signal?: AbortSignal; engine?: Partial<typeof ENGINE>; maxBufferedRecords?: number } = {},
  ) {
    const file = new FileCheckpointStore(path.join(dir, "checkpoint.json"));
    await file.open();
    try {
      const summary = await runBatches(stub, "stream", { ...ENGINE, ...options.engine }, {
        idleTimeoutMs: 300,
        eachBatch,
        autoCheckpoint: options.autoCheckpoint ?? true,
        positions: new CommittedPositions(file),
        maxBufferedRecords: options.maxBufferedRecords ?? 10_000,
        signal: options.signal ?? new AbortController().signal,
      });
      return { summary, saved: saved() };
    } finally {
      await file.close();
    }
  }
  const saved = () => parseCheckpoint(fs.readFileSync(path.join(dir, "checkpoint.json"), "utf8"))!.shards;

  it("hands each read of a shard as one batch, one batch of a shard at a time, and saves only what eachBatch checkpointed", async () => {
    const shard0 = records(0, 250);
    const stub = new StubKinesis([{ id: shardId(0), records: shard0 }]);
    const sizes: number[] = [];
    let running = 0;
    let most = 0;
    const { summary, saved: shards } = await run(
      stub,
      async (batch) => {
        running += 1;
        most = Math.max(most, running);
        sizes.push(batch.records.length);
        await new Promise((r) => setTimeout(r, 20));
        // Only the 50th record of the first batch is checkpointed.
        if (sizes.length === 1) await batch.checkpoint(batch.records[49]);
        running -= 1;
      },
      { autoCheckpoint: false },
    );
    assert.deepStrictEqual(sizes, [100, 100, 50]);
    assert.strictEqual(most, 1, "two batches of one shard ran at once");
    assert.strictEqual(summary.records, 250);
    assert.strictEqual(summary.stopReason, "idle-timeout");
    assert.deepStrictEqual(shards[shardId(0)], { sequenceNumber: shard0[49].SequenceNumber });
  });

  it("has a checkpoint on disk when batch.checkpoint() resolves, long before the engine's own periodic save", async () => {
    const shard0 = records(0, 30);
    const stub = new StubKinesis([{ id: shardId(0), records: shard0 }]);
    stub.batch = 10;
    const onDisk: Array<string | undefined> = [];
    await run(
      stub,
      async (batch) => {
        await batch.checkpoint();
        onDisk.push(saved()[shardId(0)]?.sequenceNumber);
      },
      { autoCheckpoint: false, engine: { checkpointIntervalMs: 60_000 } },
    );
    assert.deepStrictEqual(onDisk, [shard0[9].SequenceNumber, shard0[19].SequenceNumber, shard0[29].SequenceNumber]);
  });

  it("ignores a checkpoint behind one already made (an earlier batch's, called late)", async () => {
    const shard0 = records(0, 20);
    const stub = new StubKinesis([{ id: shardId(0), records: shard0 }]);
    stub.batch = 10;
    let earlier: Batch | undefined;
    await run(
      stub,
      async (batch) => {
        if (!earlier) {
          earlier = batch;
          return;
        }
        await batch.checkpoint();
        await earlier.checkpoint();
      },
      { autoCheckpoint: false },
    );
    assert.deepStrictEqual(saved()[shardId(0)], { sequenceNumber: shard0[19].SequenceNumber });
  });

  it("does not count the time eachBatch takes as idle: batches slower than idleTimeoutMs, holding the shard's reads back, do not end the run before the stream is read", async () => {
    const shard0 = records(0, 50);
    const stub = new StubKinesis([{ id: shardId(0), records: shard0 }]);
    stub.batch = 10;
    const sizes: number[] = [];
    const { summary } = await run(
      stub,
      async (batch) => {
        sizes.push(batch.records.length);
        await new Promise((r) => setTimeout(r, 500)); // longer than the idle timeout (300 ms)
      },
      { maxBufferedRecords: 10 }, // the shard's reads wait for the function at once
    );
    assert.deepStrictEqual(sizes, [10, 10, 10, 10, 10]);
    assert.strictEqual(summary.stopReason, "idle-timeout");
  });

  it("does not stop for idleness while a read is under way (a slow answer may bring records)", async () => {
    const shard0 = records(0, 20);
    const stub = new StubKinesis([{ id: shardId(0), records: shard0 }]);
    stub.batch = 10;
    stub.slowRead = (n) => (n === 2 ? 900 : 0); // three times the idle timeout
    const seen: string[] = [];
    await run(stub, (batch) => void seen.push(...batch.records.map((r) => r.data.toString())));
    assert.strictEqual(seen.length, 20);
  });

  it("starts a child shard's batches only after its parent's last batch finished, and saves the parent as ended once all of it is checkpointed", async () => {
    const parent = records(0, 30);
    const child = records(1, 30);
    const stub = new StubKinesis([
      { id: shardId(0), closed: true, records: parent },
      { id: shardId(1), parents: [shardId(0)], records: child },
    ]);
    stub.batch = 10;
    const events: string[] = [];
    const { saved: shards } = await run(stub, async (batch) => {
      events.push(`start ${batch.shardId}`);
      // The parent's batches are slow: a child read meanwhile must wait for them.
      if (batch.shardId === shardId(0)) await new Promise((r) => setTimeout(r, 60));
      events.push(`end ${batch.shardId}`);
    });
    const lastParentEnd = events.lastIndexOf(`end ${shardId(0)}`);
    const firstChildStart = events.indexOf(`start ${shardId(1)}`);
    assert.ok(firstChildStart > lastParentEnd, `child before parent: ${events.join(", ")}`);
    assert.deepStrictEqual(shards[shardId(0)], { sequenceNumber: parent[29].SequenceNumber, ended: true });
    assert.deepStrictEqual(shards[shardId(1)], { sequenceNumber: child[29].SequenceNumber });
  });

  it("keeps a shard out of `ended` while its last records are not checkpointed", async () => {
    const parent = records(0, 20);
    const stub = new StubKinesis([{ id: shardId(0), closed: true, records: parent }]);
    stub.batch = 10;
    const { saved: shards } = await run(
      stub,
      async (batch) => {
        if (batch.records[0].data.toString() === "0:1") await batch.checkpoint();
      },
      { autoCheckpoint: false },
    );
    assert.deepStrictEqual(shards[shardId(0)], { sequenceNumber: parent[9].SequenceNumber });
  });

  it("stops when eachBatch rejects, with that error, and the checkpoint stays after the last batch that finished", async () => {
    const shard0 = records(0, 30);
    const stub = new StubKinesis([{ id: shardId(0), records: shard0 }]);
    stub.batch = 10;
    const boom = new Error("the application failed");
    const file = new FileCheckpointStore(path.join(dir, "checkpoint.json"));
    await file.open();
    let batches = 0;
    await assert.rejects(
      runBatches(stub, "stream", ENGINE, {
        idleTimeoutMs: 300,
        eachBatch: () => {
          if (++batches === 2) throw boom;
        },
        autoCheckpoint: true,
        positions: new CommittedPositions(file),
        maxBufferedRecords: 10_000,
        signal: new AbortController().signal,
      }),
      (err: unknown) => err instanceof BatchFailed && err.error === boom,
    );
    await file.close();
    assert.deepStrictEqual(saved()[shardId(0)], { sequenceNumber: shard0[9].SequenceNumber });
  });

  it("unpacks KPL aggregated records, and a checkpoint inside one saves the Kinesis record before it", async () => {
    const plain = records(0, 2);
    const packed = aggregate(["a", "b", "c"].map((x) => ({ partitionKey: `k-${x}`, data: Buffer.from(x) })));
    const stub = new StubKinesis([
      {
        id: shardId(0),
        records: [...plain, { SequenceNumber: "4900000000000000099", PartitionKey: packed.partitionKey, Data: packed.data }],
      },
    ]);
    const seen: Array<{ data: string; sub?: number }> = [];
    const { saved: shards } = await run(
      stub,
      async (batch) => {
        for (const r of batch.records) seen.push(r.subSequenceNumber === undefined ? { data: r.data.toString() } : { data: r.data.toString(), sub: r.subSequenceNumber });
        await batch.checkpoint(batch.records[3]); // "b": inside the aggregated record
      },
      { autoCheckpoint: false },
    );
    assert.deepStrictEqual(seen, [{ data: "0:1" }, { data: "0:2" }, { data: "a", sub: 0 }, { data: "b", sub: 1 }, { data: "c", sub: 2 }]);
    assert.deepStrictEqual(shards[shardId(0)], { sequenceNumber: plain[1].SequenceNumber });
  });

  it("hands every record exactly once and in order however the function's timing falls against the reads", async () => {
    const shard0 = records(0, 1500);
    const stub = new StubKinesis([{ id: shardId(0), records: shard0 }]);
    stub.batch = 7;
    const seen: string[] = [];
    let turn = 0;
    await run(stub, async (batch) => {
      seen.push(...batch.records.map((r) => r.data.toString()));
      // 0 to 4 turns of the event loop: a batch ends before, during and after the engine hands over a read.
      for (let i = 0; i < turn % 5; i++) await new Promise((r) => setImmediate(r));
      turn += 1;
    });
    assert.deepStrictEqual(seen, shard0.map((r) => Buffer.from(r.Data!).toString()));
  });

  it("resumes after a stop exactly after the last checkpoint: nothing checkpointed comes again, nothing after it is lost", async () => {
    const shard0 = records(0, 40);
    const stub = new StubKinesis([{ id: shardId(0), records: shard0 }]);
    stub.batch = 10;
    const first: string[] = [];
    const stop = new AbortController();
    await run(
      stub,
      async (batch) => {
        first.push(...batch.records.map((r) => r.data.toString()));
        if (first.length === 20) stop.abort(); // the second batch is checkpointed (auto), then the run stops
      },
      { signal: stop.signal },
    );
    const second: string[] = [];
    await run(stub, (batch) => {
      second.push(...batch.records.map((r) => r.data.toString()));
    });
    assert.deepStrictEqual(first.slice(0, 20), shard0.slice(0, 20).map((r) => Buffer.from(r.Data!).toString()));
    assert.deepStrictEqual(second, shard0.slice(first.length).map((r) => Buffer.from(r.Data!).toString()));
  });
});
