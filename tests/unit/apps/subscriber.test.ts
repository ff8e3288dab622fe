/**
 * The subscriber core against a STUB Kinesis client, for what a real emulator cannot be made to do:
 * throttling, expired iterators, exact call timing, and checkpoints observed mid-run.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { _Record } from "@aws-sdk/client-kinesis";
import { FileCheckpointStore } from "../../../runtime/consumer/checkpoint";
import { subscribe, SubscribeOptions } from "../../../runtime/consumer/engine";

interface StubShard {
  id: string;
  parents?: string[];
  closed?: boolean;
  records: _Record[];
}

interface Call {
  name: string;
  /** 1 for the first call of this name, 2 for the second, ... */
  n: number;
  input: any;
  at: number;
}

function awsError(name: string): Error {
  return Object.assign(new Error(`${name} (injected)`), { name });
}

/** A stream in memory: shards with records, iterators as "shard|index", faults injected per call. */
class StubKinesis {
  readonly calls: Call[] = [];
  /** The time stamped on calls; a test with a VirtualClock sets it to that clock. */
  now: () => number = () => Date.now();
  /** Calls not yet answered (a VirtualClock waits for none to be in flight before moving time). */
  inFlight = 0;
  /** Returns an error to throw instead of answering this call. */
  fault: (call: Call) => Error | undefined = () => undefined;
  /** Records per GetRecords answer at most. */
  batch = 100;
  /** MillisBehindLatest of every GetRecords answer (0: at the tip). */
  behind = 0;

  constructor(readonly shards: StubShard[]) {}

  async send(command: { constructor: { name: string }; input: any }): Promise<any> {
    const name = command.constructor.name.replace(/Command$/, "");
    const call: Call = { name, n: this.calls.filter((c) => c.name === name).length + 1, input: command.input, at: this.now() };
    this.calls.push(call);
    this.inFlight += 1;
    await new Promise((r) => setImmediate(r)).finally(() => (this.inFlight -= 1));
    const error = this.fault(call);
    if (error) throw error;
    const input = command.input;
    switch (call.name) {
      case "ListShards": {
        // Two shards per page, to exercise NextToken.
        const start = input.NextToken ? Number(input.NextToken) : 0;
        assert.ok(!(input.NextToken && input.StreamName), "ListShards with NextToken must not name the stream");
        const page = this.shards.slice(start, start + 2);
        return {
          Shards: page.map((s) => ({
            ShardId: s.id,
            ParentShardId: s.parents?.[0],
            AdjacentParentShardId: s.parents?.[1],
            SequenceNumberRange: { StartingSequenceNumber: "0", EndingSequenceNumber: s.closed ? "9".repeat(40) : undefined },
          })),
          NextToken: start + 2 < this.shards.length ? String(start + 2) : undefined,
        };
      }
      case "GetShardIterator": {
        const shard = this.shard(input.ShardId);
        let index = 0;
        if (input.ShardIteratorType === "LATEST") index = shard.records.length;
        if (input.ShardIteratorType === "AT_TIMESTAMP") {
          // The first record that arrived at or after the time; records without an arrival time are older.
          const at = new Date(input.Timestamp).getTime();
          index = shard.records.findIndex((r) => (r.ApproximateArrivalTimestamp?.getTime() ?? 0) >= at);
          if (index < 0) index = shard.records.length;
        }
        if (input.ShardIteratorType === "AFTER_SEQUENCE_NUMBER") {
          index = shard.records.findIndex((r) => r.SequenceNumber === input.StartingSequenceNumber) + 1;
          assert.ok(index > 0, `unknown sequence number ${input.StartingSequenceNumber}`);
        }
        return { ShardIterator: `${shard.id}|${index}` };
      }
      case "GetRecords": {
        const [id, at] = String(input.ShardIterator).split("|");
        const shard = this.shard(id);
        const index = Number(at);
        const records = shard.records.slice(index, index + Math.min(this.batch, input.Limit ?? 10_000));
        const next = index + records.length;
        const ended = shard.closed && next >= shard.records.length;
        const children = this.shards.filter((s) => s.parents?.includes(id));
        return {
          Records: records,
          NextShardIterator: ended ? undefined : `${id}|${next}`,
          MillisBehindLatest: this.behind,
          ChildShards: ended ? children.map((c) => ({ ShardId: c.id, ParentShards: c.parents })) : undefined,
        };
      }
      default:
        throw new Error(`stub: unexpected ${call.name}`);
    }
  }

  shard(id: string): StubShard {
    const shard = this.shards.find((s) => s.id === id);
    if (!shard) throw awsError("ResourceNotFoundException");
    return shard;
  }

  callsTo(name: string, shardId?: string): Call[] {
    return this.calls.filter(
      (c) => c.name === name && (shardId === undefined || (c.input.ShardId ?? String(c.input.ShardIterator).split("|")[0]) === shardId),
    );
  }
}

/** `count` JSON records on shard `n`, with increasing sequence numbers. */
function records(n: number, count: number): _Record[] {
  return Array.from({ length: count }, (_, i) => ({
    SequenceNumber: `49${String(n).padStart(4, "0")}${String(i + 1).padStart(10, "0")}`,
    PartitionKey: `key-${n}`,
    Data: Buffer.from(`${JSON.stringify({ shard: n, i })}\n`),
  }));
}

/** The records, stamped as arriving now (the stub reads AT_TIMESTAMP by this stamp). */
function arrived(rs: _Record[]): _Record[] {
  const now = new Date();
  return rs.map((r) => ({ ...r, ApproximateArrivalTimestamp: now }));
}

const shardId = (n: number) => `shardId-${String(n).padStart(12, "0")}`;

/**
 * Simulated time for timing tests: sleep() registers a timer; time moves to the earliest timer only once
 * the program is quiet (no stub call in flight, nothing new scheduled for several event-loop turns), so
 * what a test measures is what the code asked for, however loaded the machine is.
 */
class VirtualClock {
  private t = 0;
  private seq = 0;
  private timers: Array<{ at: number; seq: number; fire: () => void }> = [];
  private running = true;

  constructor(private readonly stub: StubKinesis) {
    stub.now = () => this.t;
    void this.loop();
  }

  readonly now = () => this.t;

  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (signal?.aborted || ms <= 0) return resolve();
      const onAbort = () => {
        this.timers = this.timers.filter((t) => t !== timer);
        resolve();
      };
      // The listener goes when the timer fires, as the real clock's does: none piles up on a long-lived signal.
      const timer = {
        at: this.t + ms,
        seq: this.seq++,
        fire: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      this.timers.push(timer);
      signal?.addEventListener("abort", onAbort, { once: true });
    });

  stop(): void {
    this.running = false;
  }

  private async loop(): Promise<void> {
    let quiet = 0;
    let lastSeq = -1;
    while (this.running) {
      await new Promise((r) => setImmediate(r));
      if (this.stub.inFlight > 0 || this.seq !== lastSeq || this.timers.length === 0) {
        quiet = 0;
        lastSeq = this.seq;
        continue;
      }
      if (++quiet < 5) continue;
      quiet = 0;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift()!;
      this.t = Math.max(this.t, next.at);
      next.fire();
    }
  }
}

/** Fast timing for the stub: the behaviour under test, not the production pace. */
const FAST = {
  minGetRecordsIntervalMs: 1,
  tipGetRecordsIntervalMs: 1,
  emptyReadPauseMs: 5,
  relistIntervalMs: 50,
  checkpointIntervalMs: 20,
  backoff: { baseMs: 2, capMs: 10 },
} satisfies Partial<SubscribeOptions>;

async function run(stub: StubKinesis, options: Partial<SubscribeOptions> = {}) {
  const out: _Record[] = [];
  const logs: string[] = [];
  const summary = await subscribe(stub, "stream-a", {
    from: { type: "trim-horizon" },
    ...FAST,
    write: (r) => {
      out.push(r);
    },
    log: (line) => logs.push(line),
    ...options,
  });
  return { out, logs, summary };
}

const seqs = (rs: _Record[]) => rs.map((r) => r.SequenceNumber);
const ofShard = (rs: _Record[], n: number) => rs.filter((r) => r.PartitionKey === `key-${n}`);

describe("subscriber (stub Kinesis)", function () {
  this.timeout(10_000);

  it("reads every listed shard (all pages) concurrently and stops when all are closed and read", async () => {
    const shards = [0, 1, 2, 3, 4].map((n) => ({ id: shardId(n), closed: true, records: records(n, 150) }));
    const stub = new StubKinesis(shards);
    const { out, summary } = await run(stub);
    assert.strictEqual(summary.stopReason, "all-shards-ended");
    assert.strictEqual(summary.shardsRead, 5);
    for (const n of [0, 1, 2, 3, 4]) assert.deepStrictEqual(seqs(ofShard(out, n)), seqs(shards[n].records));
    assert.strictEqual(out.length, 750);
  });

  it("reads a parent to its end before any record of its children; a trimmed (unlisted) parent does not block", async () => {
    // Children are listed before their parents; shard 5's parent shard 9 is not listed (trimmed).
    const stub = new StubKinesis([
      { id: shardId(2), parents: [shardId(0)], records: records(2, 120) },
      { id: shardId(3), parents: [shardId(0), shardId(1)], records: records(3, 120) },
      { id: shardId(0), closed: true, records: records(0, 250) },
      { id: shardId(1), closed: true, records: records(1, 30) },
      { id: shardId(5), parents: [shardId(9)], records: records(5, 10) },
    ]);
    stub.batch = 40;
    const { out } = await run(stub, { max: 530 });
    const index = (n: number, which: "first" | "last") => {
      const positions = out.map((r, i) => (r.PartitionKey === `key-${n}` ? i : -1)).filter((i) => i >= 0);
      return which === "first" ? positions[0] : positions[positions.length - 1];
    };
    assert.strictEqual(out.length, 530);
    assert.ok(index(0, "last") < index(2, "first"), "shard 2 started before its parent 0 was read to its end");
    assert.ok(index(0, "last") < index(3, "first"), "shard 3 started before its parent 0 was read to its end");
    assert.ok(index(1, "last") < index(3, "first"), "shard 3 started before its adjacent parent 1 was read to its end");
    assert.ok(index(5, "first") < index(0, "last"), "shard 5 waited for a parent that is not listed");
  });

  it("with onlyShards: reads only those shards, a child whose parent is not among them at once, and ends when they are read", async () => {
    // Shard 2 is a child of shard 0 (still open, somebody else's in a group): the group leased 2, so it is read now.
    const stub = new StubKinesis([
      { id: shardId(0), records: records(0, 50) },
      { id: shardId(1), closed: true, records: records(1, 40) },
      { id: shardId(2), parents: [shardId(0)], closed: true, records: records(2, 30) },
    ]);
    const { out, summary } = await run(stub, { onlyShards: [shardId(2)] });
    assert.strictEqual(summary.stopReason, "all-shards-ended");
    assert.strictEqual(summary.shardsRead, 1);
    assert.deepStrictEqual(seqs(out), seqs(stub.shards[2].records));
    assert.deepStrictEqual([...new Set(stub.callsTo("GetShardIterator").map((c) => c.input.ShardId))], [shardId(2)]);
  });

  it("with from latest: skips shards closed at start, reads open ones from LATEST and later children from TRIM_HORIZON", async () => {
    const parent: StubShard = { id: shardId(0), records: records(0, 10) };
    const stub = new StubKinesis([parent, { id: shardId(9), closed: true, records: records(9, 5) }]);
    const fault = stub.fault;
    let resharded = false;
    stub.fault = (call) => {
      if (call.name === "GetRecords" && !resharded) {
        // The first read happens: now new records arrive, then the shard is split.
        resharded = true;
        parent.records.push(...records(0, 15).slice(10));
        parent.closed = true;
        stub.shards.push({ id: shardId(1), parents: [shardId(0)], records: records(1, 7) });
      }
      return fault(call);
    };
    const { out } = await run(stub, { from: { type: "latest" }, max: 12 });
    assert.deepStrictEqual(seqs(out), seqs([...parent.records.slice(10), ...stub.shards[2].records]));
    assert.deepStrictEqual(
      stub.callsTo("GetShardIterator").map((c) => [c.input.ShardId, c.input.ShardIteratorType]),
      [
        [shardId(0), "LATEST"],
        [shardId(1), "TRIM_HORIZON"],
      ],
    );
  });

  it("backs off on throttling and still delivers every record once, in order", async () => {
    const shards = [0, 1].map((n) => ({ id: shardId(n), closed: true, records: records(n, 300) }));
    const stub = new StubKinesis(shards);
    const names = ["ProvisionedThroughputExceededException", "LimitExceededException", "KMSThrottlingException"];
    let injected = 0;
    stub.fault = (call) => {
      const n = call.n;
      if (call.name === "GetRecords" && n >= 2 && n < 14) return awsError(names[injected++ % names.length]);
      if (call.name === "GetShardIterator" && n === 1) return awsError("ProvisionedThroughputExceededException");
      if (call.name === "ListShards" && n === 1) return awsError("LimitExceededException");
      return undefined;
    };
    const { out, summary } = await run(stub);
    assert.strictEqual(injected, 12);
    assert.strictEqual(summary.throttles, 14);
    for (const n of [0, 1]) assert.deepStrictEqual(seqs(ofShard(out, n)), seqs(shards[n].records));
    assert.strictEqual(out.length, 600);
  });

  it("backs off exponentially (capped) while a shard stays throttled", async () => {
    const stub = new StubKinesis([{ id: shardId(0), closed: true, records: records(0, 5) }]);
    stub.fault = (call) => (call.name === "GetRecords" && call.n <= 6 ? awsError("ProvisionedThroughputExceededException") : undefined);
    const clock = new VirtualClock(stub);
    try {
      const { out } = await run(stub, { backoff: { baseMs: 20, capMs: 200, random: () => 0.999 }, clock });
      assert.strictEqual(out.length, 5);
    } finally {
      clock.stop();
    }
    const at = stub.callsTo("GetRecords").map((c) => c.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    // Simulated time: each gap is exactly the backoff asked for, floor(0.999 * min(200, 20 * 2^n)), so
    // doubling and the cap are both checked exactly.
    assert.deepStrictEqual(gaps, [19, 39, 79, 159, 199, 199]);
  });

  it("retries network errors a bounded number of times, then fails", async () => {
    const stub = new StubKinesis([{ id: shardId(0), closed: true, records: records(0, 50) }]);
    stub.fault = (call) => (call.name === "GetRecords" ? Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) : undefined);
    await assert.rejects(run(stub, { maxTransientRetries: 3 }), /socket hang up/);
    assert.strictEqual(stub.callsTo("GetRecords").length, 4);
  });

  it("after ExpiredIteratorException continues AFTER_SEQUENCE_NUMBER of the last record written, without loss or duplicates", async () => {
    const shard = { id: shardId(0), closed: true, records: records(0, 250) };
    const stub = new StubKinesis([shard]);
    stub.fault = (call) =>
      call.name === "GetRecords" && call.n === 2
        ? awsError("ExpiredIteratorException")
        : undefined;
    const { out, summary } = await run(stub);
    assert.deepStrictEqual(seqs(out), seqs(shard.records));
    const iterators = stub.callsTo("GetShardIterator").map((c) => c.input);
    assert.strictEqual(iterators.length, 2);
    assert.strictEqual(iterators[1].ShardIteratorType, "AFTER_SEQUENCE_NUMBER");
    assert.strictEqual(iterators[1].StartingSequenceNumber, shard.records[99].SequenceNumber);
    assert.strictEqual(summary.retries, 1);
  });

  it("after ExpiredIteratorException before any record, starts again from the original position", async () => {
    const shard = { id: shardId(0), closed: true, records: records(0, 20) };
    const stub = new StubKinesis([shard]);
    stub.fault = (call) =>
      call.name === "GetRecords" && call.n === 1
        ? awsError("ExpiredIteratorException")
        : undefined;
    const { out } = await run(stub);
    assert.deepStrictEqual(seqs(out), seqs(shard.records));
    assert.deepStrictEqual(
      stub.callsTo("GetShardIterator").map((c) => c.input.ShardIteratorType),
      ["TRIM_HORIZON", "TRIM_HORIZON"],
    );
  });

  it("after ExpiredIteratorException before any record with from latest, starts again AT_TIMESTAMP of the run's start, not LATEST", async () => {
    // Records arrive before the first read, whose iterator turned out expired: LATEST again would skip them.
    const shard: StubShard = { id: shardId(0), records: records(0, 10) };
    const stub = new StubKinesis([shard]);
    const before = Date.now();
    stub.fault = (call) => {
      if (call.name !== "GetRecords" || call.n !== 1) return undefined;
      shard.records.push(...arrived(records(0, 15).slice(10)));
      return awsError("ExpiredIteratorException");
    };
    const { out, logs, summary } = await run(stub, { from: { type: "latest" }, max: 5, idleTimeoutMs: 1_000 });
    assert.deepStrictEqual(seqs(out), seqs(shard.records.slice(10)), "records that arrived after the start were skipped");
    assert.strictEqual(summary.stopReason, "max");
    const iterators = stub.callsTo("GetShardIterator").map((c) => c.input);
    assert.deepStrictEqual(
      iterators.map((i) => i.ShardIteratorType),
      ["LATEST", "AT_TIMESTAMP"],
    );
    const at = new Date(iterators[1].Timestamp).getTime();
    assert.ok(at >= before && at <= stub.callsTo("ListShards")[0].at, "AT_TIMESTAMP is not the moment the run began");
    assert.ok(logs.some((l) => l.includes(`iterator expired; continuing from AT_TIMESTAMP ${new Date(at).toISOString()}`)), logs.join("\n"));
  });

  it("by default reads a shard at most 2 times a second while behind and once at the tip, throttle retries included", async () => {
    for (const behind of [60_000, 0]) {
      // Open shards with nothing to read: the worst case for spinning. Throttling every 3rd call adds retries.
      const stub = new StubKinesis([0, 1].map((n) => ({ id: shardId(n), records: [] })));
      stub.behind = behind;
      stub.fault = (call) =>
        call.name === "GetRecords" && call.n % 3 === 0
          ? awsError("ProvisionedThroughputExceededException")
          : undefined;
      const clock = new VirtualClock(stub);
      let summary;
      try {
        ({ summary } = await run(stub, {
          minGetRecordsIntervalMs: undefined, // the defaults under test
          tipGetRecordsIntervalMs: undefined,
          emptyReadPauseMs: 0,
          backoff: { baseMs: 1, capMs: 1 },
          idleTimeoutMs: 10_000,
          clock,
        }));
      } finally {
        clock.stop();
      }
      assert.strictEqual(summary.stopReason, "idle-timeout");
      const least = behind > 0 ? 500 : 1000;
      for (const n of [0, 1]) {
        const at = stub.callsTo("GetRecords", shardId(n)).map((c) => c.at);
        assert.ok(at.length >= 9, `only ${at.length} calls on shard ${n}: the test would prove nothing`);
        for (let i = 1; i < at.length; i++) assert.ok(at[i] - at[i - 1] >= least, `calls ${at[i] - at[i - 1]} ms apart (behind ${behind}): ${at}`);
        // Not slower than asked either: the rate is the budget, not less.
        assert.ok(at.length >= Math.floor(10_000 / (least + 2)) - 1, `${at.length} calls in 10 s (behind ${behind})`);
      }
    }
  });

  it("pauses after an empty read at the tip of the shard", async () => {
    const stub = new StubKinesis([{ id: shardId(0), records: [] }]);
    const clock = new VirtualClock(stub);
    try {
      await run(stub, { minGetRecordsIntervalMs: 1, emptyReadPauseMs: 150, idleTimeoutMs: 700, clock });
    } finally {
      clock.stop();
    }
    const at = stub.callsTo("GetRecords").map((c) => c.at);
    // Simulated time: reads at 0, 150, 300, 450, 600, then --idle-timeout at 700; each pause is exactly 150 ms.
    assert.deepStrictEqual(at, [0, 150, 300, 450, 600]);
  });

  it("stops on abort, with in-flight writes finished and checkpointed", async () => {
    const stub = new StubKinesis([{ id: shardId(0), records: records(0, 300) }]);
    const controller = new AbortController();
    const file = tempFile();
    const written: _Record[] = [];
    const summary = await subscribe(stub, "stream-a", {
      from: { type: "trim-horizon" },
      ...FAST,
      checkpoint: new FileCheckpointStore(file),
      signal: controller.signal,
      write: async (r) => {
        if (written.length === 120) {
          controller.abort();
          await new Promise((r) => setTimeout(r, 30));
        }
        written.push(r);
      },
    });
    assert.strictEqual(summary.stopReason, "aborted");
    assert.strictEqual(written.length, 121);
    assert.deepStrictEqual(readCheckpoint(file).shards, { [shardId(0)]: { sequenceNumber: written[120].SequenceNumber } });
  });
});

describe("subscriber checkpoints (stub Kinesis, file store)", function () {
  this.timeout(10_000);

  it("records a position only after write resolved, saves periodically, and resumes after it", async () => {
    // 260 records, max 150: shard 1 runs out (60) before max is reached during the slow write below.
    const shards = [0, 1].map((n) => ({ id: shardId(n), records: records(n, n === 0 ? 200 : 60) }));
    const file = tempFile();
    const first: _Record[] = [];
    let observed: any;
    await subscribe(new StubKinesis(shards), "stream-a", {
      from: { type: "trim-horizon" },
      ...FAST,
      checkpoint: new FileCheckpointStore(file),
      max: 150,
      write: async (r) => {
        if (r.SequenceNumber === shards[0].records[60].SequenceNumber) {
          // A slow write: periodic saves happen meanwhile, and must not include this record yet.
          await new Promise((resolve) => setTimeout(resolve, 150));
          observed = readCheckpoint(file).shards[shardId(0)];
        }
        first.push(r);
      },
    });
    assert.strictEqual(observed?.sequenceNumber, shards[0].records[59].SequenceNumber);
    assert.strictEqual(first.length, 150);
    const saved = readCheckpoint(file);
    for (const n of [0, 1]) {
      const mine = ofShard(first, n);
      assert.strictEqual(saved.shards[shardId(n)]?.sequenceNumber, mine[mine.length - 1]?.SequenceNumber);
    }

    const stub = new StubKinesis(shards);
    const second = (await run(stub, { checkpoint: new FileCheckpointStore(file), from: { type: "latest" }, idleTimeoutMs: 200 })).out;
    assert.deepStrictEqual(
      stub.callsTo("GetShardIterator").map((c) => c.input.ShardIteratorType),
      ["AFTER_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"],
    );
    for (const n of [0, 1]) assert.deepStrictEqual(seqs([...ofShard(first, n), ...ofShard(second, n)]), seqs(shards[n].records));
  });

  it("skips shards recorded as ended and applies --from only to shards without a checkpoint", async () => {
    const shards = [
      { id: shardId(0), closed: true, records: records(0, 10) },
      { id: shardId(1), parents: [shardId(0)], records: records(1, 10) },
      { id: shardId(2), records: records(2, 10) },
    ];
    const file = tempFile();
    await new FileCheckpointStore(file).save("stream-a", {
      [shardId(0)]: { sequenceNumber: shards[0].records[9].SequenceNumber, ended: true },
      [shardId(1)]: { sequenceNumber: shards[1].records[3].SequenceNumber },
    });
    const stub = new StubKinesis(shards);
    const { out } = await run(stub, { checkpoint: new FileCheckpointStore(file), idleTimeoutMs: 200 });
    assert.deepStrictEqual(stub.callsTo("GetShardIterator", shardId(0)), []);
    assert.deepStrictEqual(seqs(ofShard(out, 1)), seqs(shards[1].records.slice(4)));
    assert.deepStrictEqual(seqs(ofShard(out, 2)), seqs(shards[2].records));
    assert.deepStrictEqual(readCheckpoint(file).shards[shardId(0)], { sequenceNumber: shards[0].records[9].SequenceNumber, ended: true });
  });

  it("marks a shard read to its end as ended", async () => {
    const shards = [{ id: shardId(0), closed: true, records: records(0, 10) }];
    const file = tempFile();
    await run(new StubKinesis(shards), { checkpoint: new FileCheckpointStore(file) });
    assert.deepStrictEqual(readCheckpoint(file).shards, { [shardId(0)]: { sequenceNumber: shards[0].records[9].SequenceNumber, ended: true } });
  });

  it("saves each shard's start before its first read (latest as the run's start time) and reads from it on restart", async () => {
    // Shard 0 gets records after the start; shard 1 gets none before --max stops the run.
    const shards: StubShard[] = [0, 1].map((n) => ({ id: shardId(n), records: records(n, 5) }));
    const file = tempFile();
    const stub = new StubKinesis(shards);
    let atFirstRead: any;
    stub.fault = (call) => {
      if (call.name === "GetRecords" && call.n === 1) {
        atFirstRead = readCheckpoint(file).shards;
        shards[0].records.push(...arrived(records(0, 8).slice(5)));
      }
      return undefined;
    };
    const before = Date.now();
    const first = await run(stub, { from: { type: "latest" }, checkpoint: new FileCheckpointStore(file), max: 3 });
    assert.deepStrictEqual(seqs(first.out), seqs(shards[0].records.slice(5)));
    const startedAt = atFirstRead?.[shardId(1)]?.start?.atTimestamp;
    assert.ok(startedAt && Date.parse(startedAt) >= before && Date.parse(startedAt) <= stub.calls[0].at, `start saved: ${JSON.stringify(atFirstRead)}`);
    assert.deepStrictEqual(atFirstRead, { [shardId(0)]: { start: { atTimestamp: startedAt } }, [shardId(1)]: { start: { atTimestamp: startedAt } } });
    assert.deepStrictEqual(readCheckpoint(file).shards, {
      [shardId(0)]: { sequenceNumber: shards[0].records[7].SequenceNumber },
      [shardId(1)]: { start: { atTimestamp: startedAt } },
    });

    // While stopped, both shards receive records; the restart (again from latest) reads them all.
    await new Promise((resolve) => setTimeout(resolve, 5));
    shards[0].records.push(...arrived(records(0, 10).slice(8)));
    shards[1].records.push(...arrived(records(1, 9).slice(5)));
    const again = new StubKinesis(shards);
    const second = await run(again, { from: { type: "latest" }, checkpoint: new FileCheckpointStore(file), max: 6, idleTimeoutMs: 500 });
    assert.deepStrictEqual(
      again.callsTo("GetShardIterator").map((c) => [c.input.ShardId, c.input.ShardIteratorType, c.input.Timestamp?.toISOString()]),
      [
        [shardId(0), "AFTER_SEQUENCE_NUMBER", undefined],
        [shardId(1), "AT_TIMESTAMP", startedAt],
      ],
    );
    assert.deepStrictEqual(seqs(ofShard(second.out, 0)), seqs(shards[0].records.slice(8)));
    assert.deepStrictEqual(seqs(ofShard(second.out, 1)), seqs(shards[1].records.slice(5)));
    assert.ok(second.logs.some((l) => l.includes(`shard ${shardId(1)}: reading from AT_TIMESTAMP ${startedAt}`)), second.logs.join("\n"));
  });

  it("uses a saved start whatever --from says, and --from only for shards the checkpoint does not name", async () => {
    const at = new Date(Date.now() - 60_000);
    const shards: StubShard[] = [0, 1, 2].map((n) => ({ id: shardId(n), records: records(n, 4) }));
    shards[0].records.push(...arrived(records(0, 7).slice(4)));
    const file = tempFile();
    await new FileCheckpointStore(file).save("stream-a", {
      [shardId(0)]: { start: { atTimestamp: at.toISOString() } },
      [shardId(1)]: { start: "trim-horizon" },
    });
    const stub = new StubKinesis(shards);
    const before = Date.now();
    const { out } = await run(stub, { from: { type: "latest" }, checkpoint: new FileCheckpointStore(file), idleTimeoutMs: 300 });
    assert.deepStrictEqual(
      stub.callsTo("GetShardIterator").map((c) => [c.input.ShardId, c.input.ShardIteratorType, c.input.Timestamp?.toISOString()]),
      [
        [shardId(0), "AT_TIMESTAMP", at.toISOString()],
        [shardId(1), "TRIM_HORIZON", undefined],
        [shardId(2), "LATEST", undefined],
      ],
    );
    assert.deepStrictEqual(seqs(ofShard(out, 0)), seqs(shards[0].records.slice(4)));
    assert.deepStrictEqual(seqs(ofShard(out, 1)), seqs(shards[1].records));
    assert.deepStrictEqual(ofShard(out, 2), []);
    const saved = readCheckpoint(file).shards;
    assert.strictEqual(saved[shardId(0)].sequenceNumber, shards[0].records[6].SequenceNumber);
    assert.strictEqual(saved[shardId(1)].sequenceNumber, shards[1].records[3].SequenceNumber);
    const start = Date.parse(saved[shardId(2)].start?.atTimestamp);
    assert.ok(start >= before && start <= stub.calls[0].at, `shard 2: ${JSON.stringify(saved[shardId(2)])}`);
  });

  it("on restart from latest, reads children of a parent that was being read from TRIM_HORIZON (also closed ones)", async () => {
    // The first run stops (--max) while reading the parent, which is then split, and its child split again.
    const parent: StubShard = { id: shardId(0), records: records(0, 10) };
    const child: StubShard = { id: shardId(1), parents: [shardId(0)], closed: true, records: records(1, 4) };
    const grandchild: StubShard = { id: shardId(2), parents: [shardId(1)], records: records(2, 3) };
    const stub = new StubKinesis([parent]);
    stub.fault = (call) => {
      if (call.name === "GetRecords" && call.n === 1) {
        parent.records.push(...arrived(records(0, 15).slice(10)));
        parent.closed = true;
        stub.shards.push(child, grandchild);
      }
      return undefined;
    };
    const file = tempFile();
    const first = await run(stub, { from: { type: "latest" }, checkpoint: new FileCheckpointStore(file), max: 2 });
    assert.deepStrictEqual(seqs(first.out), seqs(parent.records.slice(10, 12)));
    assert.deepStrictEqual(Object.keys(readCheckpoint(file).shards), [shardId(0)], "children were started");

    const again = new StubKinesis([parent, child, grandchild]);
    const second = await run(again, { from: { type: "latest" }, checkpoint: new FileCheckpointStore(file), max: 10, idleTimeoutMs: 500 });
    assert.deepStrictEqual(seqs(second.out), seqs([...parent.records.slice(12), ...child.records, ...grandchild.records]));
    assert.deepStrictEqual(
      again.callsTo("GetShardIterator").map((c) => [c.input.ShardId, c.input.ShardIteratorType]),
      [
        [shardId(0), "AFTER_SEQUENCE_NUMBER"],
        [shardId(1), "TRIM_HORIZON"],
        [shardId(2), "TRIM_HORIZON"],
      ],
    );
  });

  it("loads version 1 files without starts, and refuses a malformed start", async () => {
    const file = tempFile();
    const old = { version: 1, stream: "s", shards: { a: { sequenceNumber: "1" }, b: { sequenceNumber: "2", ended: true }, c: { ended: true } } };
    fs.writeFileSync(file, JSON.stringify(old));
    assert.deepStrictEqual(await new FileCheckpointStore(file).load("s"), old.shards);
    const starts = { a: { start: "trim-horizon" }, b: { start: { atTimestamp: "2024-05-01T12:00:00.000Z" } } };
    fs.writeFileSync(file, JSON.stringify({ version: 1, stream: "s", shards: starts }));
    assert.deepStrictEqual(await new FileCheckpointStore(file).load("s"), starts);
    for (const start of ["latest", { atTimestamp: "yesterday" }, { atTimestamp: 5 }, 0]) {
      fs.writeFileSync(file, JSON.stringify({ version: 1, stream: "s", shards: { a: { start } } }));
      await assert.rejects(new FileCheckpointStore(file).load("s"), /is not a subscriber checkpoint/, JSON.stringify(start));
    }
  });

  it("refuses a checkpoint of another stream in one line, and leaves it alone", async () => {
    const file = tempFile();
    await new FileCheckpointStore(file).save("other-stream", { [shardId(0)]: { sequenceNumber: "1" } });
    const before = fs.readFileSync(file, "utf8");
    const stub = new StubKinesis([{ id: shardId(0), records: records(0, 5) }]);
    await assert.rejects(run(stub, { checkpoint: new FileCheckpointStore(file) }), (err: Error) => {
      assert.strictEqual(err.name, "UserError");
      assert.match(err.message, /belongs to stream "other-stream", not "stream-a"/);
      assert.ok(!err.message.includes("\n"));
      return true;
    });
    assert.strictEqual(fs.readFileSync(file, "utf8"), before);
    assert.deepStrictEqual(stub.calls, []);
  });

  it("replaces the file atomically (new inode via rename; the old file is never rewritten in place)", async () => {
    const file = tempFile();
    const store = new FileCheckpointStore(file);
    await store.save("s", { a: { sequenceNumber: "1" } });
    const before = fs.statSync(file).ino;
    const oldFd = fs.openSync(file, "r");
    try {
      await store.save("s", { a: { sequenceNumber: "2" } });
      assert.notStrictEqual(fs.statSync(file).ino, before);
      // The inode the old name pointed to still holds the complete old state.
      assert.deepStrictEqual(JSON.parse(fs.readFileSync(oldFd, "utf8")).shards, { a: { sequenceNumber: "1" } });
    } finally {
      fs.closeSync(oldFd);
    }
    assert.deepStrictEqual(await store.load("s"), { a: { sequenceNumber: "2" } });
    assert.deepStrictEqual(fs.readdirSync(path.dirname(file)), [path.basename(file)]);
  });

  it("refuses a checkpoint that says an open shard ended, or gives a sequence number outside the shard's range, and leaves it alone", async () => {
    const shards = [
      { id: shardId(0), records: records(0, 10) },
      { id: shardId(1), closed: true, records: records(1, 10) },
    ];
    for (const [saved, why] of [
      [{ [shardId(0)]: { ended: true } }, /says shard shardId-000000000000 was read to its end, but the stream lists it open/],
      [{ [shardId(1)]: { sequenceNumber: "1".repeat(41) } }, /gives shard shardId-000000000001 sequence number 1+, after the shard's last/],
      [{ [shardId(0)]: { sequenceNumber: "12abc" } }, /gives shard shardId-000000000000 the sequence number "12abc", which is not one/],
    ] as const) {
      const file = tempFile();
      fs.writeFileSync(file, JSON.stringify({ version: 1, stream: "stream-a", shards: saved }));
      const before = fs.readFileSync(file, "utf8");
      const stub = new StubKinesis(shards);
      await assert.rejects(run(stub, { checkpoint: new FileCheckpointStore(file) }), (err: Error) => {
        assert.strictEqual(err.name, "UserError");
        assert.ok(err.message.startsWith(`checkpoint ${file} `), err.message);
        assert.match(err.message, why);
        assert.match(err.message, /move it away to read the stream from --from/);
        assert.ok(!err.message.includes("\n"));
        return true;
      });
      assert.strictEqual(fs.readFileSync(file, "utf8"), before);
      assert.deepStrictEqual(stub.callsTo("GetShardIterator"), [], "nothing is read");
    }
  });

  it("refuses a saved start in the future, naming the file", async () => {
    const file = tempFile();
    fs.writeFileSync(file, JSON.stringify({ version: 1, stream: "s", shards: { a: { start: { atTimestamp: "2999-01-01T00:00:00.000Z" } } } }));
    await assert.rejects(
      new FileCheckpointStore(file).load("s"),
      new RegExp(`^UserError: --checkpoint ${file}: shard a starts at 2999-01-01T00:00:00.000Z, which is in the future .*delete the shard's entry`),
    );
  });

  it("refuses to replace a checkpoint made read-only while running", async () => {
    const file = tempFile();
    const shards = [{ id: shardId(0), records: records(0, 50) }];
    let frozen: string | undefined;
    await assert.rejects(
      run(new StubKinesis(shards), {
        checkpoint: new FileCheckpointStore(file),
        idleTimeoutMs: 300,
        // No periodic save in flight while the file is made read-only (its rename would replace the file
        // with a writable one): the saves are the shard's start before the first read, and the final one.
        checkpointIntervalMs: 60_000,
        write: async (r) => {
          if (r.SequenceNumber === shards[0].records[10].SequenceNumber) {
            fs.chmodSync(file, 0o444);
            frozen = fs.readFileSync(file, "utf8");
          }
        },
      }),
      /--checkpoint .* was made read-only while the subscriber ran; it is not replaced/,
    );
    assert.ok(frozen);
    assert.strictEqual(fs.readFileSync(file, "utf8"), frozen);
    assert.strictEqual(fs.statSync(file).mode & 0o777, 0o444);
  });

  it("fails in one line on a file that is not a checkpoint", async () => {
    const file = tempFile();
    fs.writeFileSync(file, "{not json");
    await assert.rejects(new FileCheckpointStore(file).load("s"), /is not a subscriber checkpoint/);
    assert.deepStrictEqual(await new FileCheckpointStore(`${file}.missing`).load("s"), {});
  });
});

function tempFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "subscriber-ckpt-")), "checkpoint.json");
}

function readCheckpoint(file: string): { version: number; stream: string; shards: Record<string, any> } {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}
