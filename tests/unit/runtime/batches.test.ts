/**
 * The consumer engine's batch mode (runtime/consumer/batches.ts) against a STUB Kinesis client, for what
 * the local processor needs beyond the library's batches: the shard's tip and its end handed to the
 * consumer in the shard's order (after the batches before them; the end saved only once the consumer is
 * done with it), a per-shard state saved in the same save as the position and given back on restart, and a
 * saved position the stream does not know read again from the shard's start with its state dropped.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CheckpointStore, FileCheckpointStore, parseCheckpoint, ShardCheckpoints } from "../../../runtime/consumer/checkpoint";
import { CommittedPositions } from "../../../runtime/consumer/committed-positions";
import { BatchRunOptions, Position, runShardBatches } from "../../../runtime/consumer/batches";
import { UserError } from "../../../runtime/errors";
import { records, shardId, StubKinesis } from "../../helpers/stub-kinesis";

const ENGINE = {
  from: { type: "trim-horizon" } as const,
  minGetRecordsIntervalMs: 1,
  tipGetRecordsIntervalMs: 1,
  emptyReadPauseMs: 5,
  relistIntervalMs: 50,
  checkpointIntervalMs: 20,
};

/** A store that keeps a copy of every save it passes on. */
class SpyStore implements CheckpointStore {
  readonly saves: ShardCheckpoints[] = [];
  readonly description: string;
  constructor(private readonly inner: CheckpointStore) {
    this.description = inner.description;
  }
  load(stream: string) {
    return this.inner.load(stream);
  }
  save(stream: string, shards: ShardCheckpoints) {
    this.saves.push(JSON.parse(JSON.stringify(shards)));
    return this.inner.save(stream, shards);
  }
}

const text = (r: { Data?: Uint8Array }) => Buffer.from(r.Data!).toString();

describe("consumer engine: batch mode (tip, shard end, per-shard state)", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "batches-"));
    file = path.join(dir, "checkpoint.json");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const saved = () => parseCheckpoint(fs.readFileSync(file, "utf8"))!.shards;

  async function run(stub: StubKinesis, options: Partial<BatchRunOptions> & Pick<BatchRunOptions, "eachBatch">) {
    const spy = new SpyStore(new FileCheckpointStore(file));
    const summary = await runShardBatches(stub, "stream", ENGINE, {
      positions: new CommittedPositions(spy),
      maxBufferedRecords: 10_000,
      idleTimeoutMs: 300,
      signal: new AbortController().signal,
      ...options,
    });
    return { summary, saves: spy.saves };
  }

  it("tells the consumer a shard is at its tip only after the batches read before it, though the engine read ahead", async () => {
    const stub = new StubKinesis([{ id: shardId(0), records: records(0, 25) }]);
    stub.batch = 10;
    const events: string[] = [];
    const stop = new AbortController();
    let emptyReadsDuringFirstBatch = -1;
    await run(stub, {
      signal: stop.signal,
      eachBatch: async (batch) => {
        await new Promise((r) => setTimeout(r, 100));
        if (events.length === 0) emptyReadsDuringFirstBatch = stub.emptyAnswers;
        events.push(`batch ${batch.records.length}`);
      },
      atTip: (shard) => {
        events.push(`tip ${shard.id}`);
        if (events.filter((e) => e.startsWith("tip")).length === 3) stop.abort();
      },
    });
    assert.ok(emptyReadsDuringFirstBatch > 0, "the engine had not reached the tip while the first batch ran: the test proves nothing");
    assert.deepStrictEqual(events.slice(0, 4), ["batch 10", "batch 10", "batch 5", `tip ${shardId(0)}`]);
    assert.ok(events.slice(3).every((e) => e.startsWith("tip")), events.join(", "));
  });

  it("hands a shard's end after its last batch and saves it as ended only once the consumer's shardEnded resolved; children wait for it", async () => {
    const parent = records(0, 20);
    const stub = new StubKinesis([
      { id: shardId(0), closed: true, records: parent },
      { id: shardId(1), parents: [shardId(0)], records: records(1, 5) },
    ]);
    stub.batch = 10;
    const events: string[] = [];
    let endedWhileEnding: boolean | undefined;
    await run(stub, {
      eachBatch: async (batch, checkpoint) => {
        events.push(`batch ${batch.shard.id}`);
        const last = batch.records[batch.records.length - 1];
        await checkpoint.save({ sequenceNumber: last.SequenceNumber!, order: batch.firstOrder + batch.records.length - 1 });
      },
      shardEnded: async (shard) => {
        events.push(`end ${shard.id}`);
        await new Promise((r) => setTimeout(r, 100)); // longer than the engine's checkpoint interval
        if (shard.id === shardId(0)) endedWhileEnding = saved()[shardId(0)]?.ended === true;
      },
    });
    assert.deepStrictEqual(events, [`batch ${shardId(0)}`, `batch ${shardId(0)}`, `end ${shardId(0)}`, `batch ${shardId(1)}`]);
    assert.strictEqual(endedWhileEnding, false, "the parent was saved as ended before its shardEnded resolved");
    assert.deepStrictEqual(saved()[shardId(0)], { sequenceNumber: parent[19].SequenceNumber, ended: true });
  });

  it("saves the shard's state in the same save as its position, and gives both back on a restart (also at the tip, before any record)", async () => {
    const shard0 = records(0, 30);
    const stub = new StubKinesis([{ id: shardId(0), records: shard0 }]);
    stub.batch = 10;
    /** Counts the records it saw in the shard's state, checkpointing each batch's last record with it. */
    const counting: BatchRunOptions["eachBatch"] = async (batch, checkpoint) => {
      const count = ((checkpoint.state as { count?: number } | undefined)?.count ?? 0) + batch.records.length;
      const last: Position = { sequenceNumber: batch.records[batch.records.length - 1].SequenceNumber!, order: batch.firstOrder + batch.records.length - 1 };
      await checkpoint.save(last, { value: { count } });
    };
    const first = await run(stub, { eachBatch: counting });
    // In every save the state is the one of the position saved: count = records up to it.
    for (const save of first.saves) {
      const entry = save[shardId(0)];
      if (!entry?.sequenceNumber) continue;
      const upTo = shard0.findIndex((r) => r.SequenceNumber === entry.sequenceNumber) + 1;
      assert.deepStrictEqual(entry.state, { count: upTo }, `a save paired position ${upTo} with state ${JSON.stringify(entry.state)}`);
    }
    assert.deepStrictEqual(saved()[shardId(0)], { sequenceNumber: shard0[29].SequenceNumber, state: { count: 30 } });

    stub.shards[0].records.push(...records(0, 10, 31));
    const seen: string[] = [];
    await run(stub, {
      eachBatch: async (batch, checkpoint) => {
        seen.push(...batch.records.map(text));
        await counting(batch, checkpoint);
      },
    });
    assert.deepStrictEqual(seen, records(0, 10, 31).map(text), "the restart did not resume after the last position saved");
    assert.deepStrictEqual(saved()[shardId(0)].state, { count: 40 });

    // Nothing new: the state comes back at the tip; dropping it keeps the position.
    const atTip: unknown[] = [];
    const stop = new AbortController();
    await run(stub, {
      signal: stop.signal,
      eachBatch: () => assert.fail("no record is left to hand over"),
      atTip: async (_shard, checkpoint) => {
        atTip.push(checkpoint.state);
        await checkpoint.save(undefined, { value: undefined });
        stop.abort();
      },
    });
    assert.deepStrictEqual(atTip, [{ count: 40 }]);
    assert.deepStrictEqual(saved()[shardId(0)], { sequenceNumber: stub.shards[0].records[39].SequenceNumber });
  });

  it("reads a shard whose saved position the stream does not know from its start again, with its state dropped; without readAgain the run stops", async () => {
    const shard0 = records(0, 10);
    const stub = new StubKinesis([{ id: shardId(0), records: shard0 }]);
    const unknown = { version: 1, stream: "stream", shards: { [shardId(0)]: { sequenceNumber: "4900009999999999", state: { count: 99 } } } };
    fs.writeFileSync(file, JSON.stringify(unknown));
    await assert.rejects(
      run(stub, { eachBatch: () => assert.fail("nothing may be handed over") }),
      (err: unknown) => err instanceof UserError && /refused sequence number 4900009999999999/.test(err.message),
    );
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, "utf8")), unknown, "the refused checkpoint was rewritten");

    const readAgain: string[] = [];
    const states: unknown[] = [];
    const seen: string[] = [];
    await run(stub, {
      readAgain: (id) => void readAgain.push(id),
      eachBatch: async (batch, checkpoint) => {
        states.push(checkpoint.state);
        seen.push(...batch.records.map(text));
        const last = batch.records[batch.records.length - 1];
        await checkpoint.save({ sequenceNumber: last.SequenceNumber!, order: batch.firstOrder + batch.records.length - 1 }, { value: { count: batch.records.length } });
      },
    });
    assert.deepStrictEqual(readAgain, [shardId(0)]);
    assert.deepStrictEqual(states, [undefined], "the state of the unknown position was handed on");
    assert.deepStrictEqual(seen, shard0.map(text));
    assert.deepStrictEqual(saved()[shardId(0)], { sequenceNumber: shard0[9].SequenceNumber, state: { count: 10 } });
  });
});
