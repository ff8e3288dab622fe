/**
 * The publisher against an in-memory PutRecords stub with fault injection (partial failures, throttled
 * requests, poison records, fatal errors). The stub stores what it accepted, in order, and watches the
 * batch limits and which partition keys are in flight at the same time.
 */
import {
  AccessDeniedException,
  InternalFailureException,
  KMSThrottlingException,
  LimitExceededException,
  ListShardsCommand,
  ProvisionedThroughputExceededException,
  PutRecordsCommand,
  PutRecordsCommandOutput,
  ResourceNotFoundException,
  ValidationException,
} from "@aws-sdk/client-kinesis";
import * as assert from "assert";
import { createHash } from "crypto";
import { KINESIS_LIMITS } from "../../../runtime/producer/records";
import { publish, PublishOptions, PublishRecord, PutRecordsSender } from "../../../runtime/producer/publisher";
import { evenShards } from "../../../runtime/producer/shard-map";
import { seeded } from "../../helpers/seeded";

/** What a fault hook decides for one call: throw, or fail the entries at these indexes. */
type Verdict = { throw: Error } | { fail: number[]; code?: string } | undefined;
interface StubEntry {
  key: string;
  data: string;
  size: number;
}
interface Call {
  entries: StubEntry[];
  failed: number[];
  threw?: string;
}

class StubKinesis {
  readonly calls: Call[] = [];
  readonly stored: StubEntry[] = [];
  /** Partition keys that were in two requests at the same time. */
  readonly overlaps: string[] = [];
  /** Requests that broke the 500 records / 5 MiB limits. */
  readonly limitViolations: string[] = [];
  maxConcurrent = 0;
  private concurrent = 0;
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly fault: (call: number, entries: StubEntry[]) => Verdict = () => undefined,
    private readonly latencyMs: () => number = () => 0,
  ) {}

  async send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput> {
    assert.ok(command instanceof PutRecordsCommand, "only PutRecords is expected");
    const entries: StubEntry[] = (command.input.Records ?? []).map((r) => ({
      key: r.PartitionKey!,
      data: Buffer.from(r.Data!).toString("utf8"),
      size: r.Data!.byteLength + Buffer.byteLength(r.PartitionKey!),
    }));
    const call: Call = { entries, failed: [] };
    const callNo = this.calls.push(call) - 1;
    const bytes = entries.reduce((n, e) => n + e.size, 0);
    if (entries.length > KINESIS_LIMITS.maxRecordsPerRequest) this.limitViolations.push(`${entries.length} records`);
    if (bytes > KINESIS_LIMITS.maxBytesPerRequest) this.limitViolations.push(`${bytes} bytes`);
    const keys = new Set(entries.map((e) => e.key));
    for (const key of keys) {
      if (this.inFlight.has(key)) this.overlaps.push(key);
      this.inFlight.add(key);
    }
    this.maxConcurrent = Math.max(this.maxConcurrent, ++this.concurrent);
    try {
      const latency = this.latencyMs();
      await (latency > 0 ? new Promise((r) => setTimeout(r, latency)) : new Promise((r) => setImmediate(r)));
    } finally {
      this.concurrent--;
      for (const key of keys) this.inFlight.delete(key);
    }
    const verdict = this.fault(callNo, entries);
    if (verdict && "throw" in verdict) {
      call.threw = verdict.throw.name;
      throw verdict.throw;
    }
    const failed = new Set(verdict?.fail ?? []);
    call.failed = [...failed].sort((a, b) => a - b);
    const records = entries.map((entry, i) => {
      if (failed.has(i)) return { ErrorCode: verdict?.code ?? "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded" };
      this.stored.push(entry);
      return { SequenceNumber: String(this.stored.length), ShardId: "shardId-000000000000" };
    });
    return { $metadata: { httpStatusCode: 200 }, FailedRecordCount: failed.size, Records: records };
  }

  /** How often each data string was sent / stored. */
  sentCount(data: string): number {
    return this.calls.reduce((n, c) => n + c.entries.filter((e) => e.data === data).length, 0);
  }
}

/** `count` records with data "r<i>" and partition key "r<i>" (or "k<i % keys>"). */
function* records(count: number, keys?: number): Generator<PublishRecord> {
  for (let i = 0; i < count; i++) {
    yield { data: Buffer.from(`r${i}`), partitionKey: keys === undefined ? `r${i}` : `k${i % keys}` };
  }
}

/** A source that records how far it ever ran ahead of what the stub stored. */
class AheadOf implements Iterable<PublishRecord> {
  maxAhead = 0;
  constructor(
    private readonly stub: StubKinesis,
    private readonly source: Iterable<PublishRecord>,
  ) {}
  *[Symbol.iterator](): Iterator<PublishRecord> {
    let pulled = 0;
    for (const r of this.source) {
      pulled++;
      this.maxAhead = Math.max(this.maxAhead, pulled - this.stub.stored.length);
      yield r;
    }
  }
}

const fast: PublishOptions = { backoff: { baseMs: 1, capMs: 5 } };
const throttled = () => new ProvisionedThroughputExceededException({ message: "Rate exceeded", $metadata: { httpStatusCode: 400 } });

function assertEachStoredOnce(stub: StubKinesis, count: number): void {
  const seen = new Map<string, number>();
  for (const entry of stub.stored) seen.set(entry.data, (seen.get(entry.data) ?? 0) + 1);
  assert.strictEqual(seen.size, count, "every record stored");
  for (const [data, n] of seen) assert.strictEqual(n, 1, `${data} stored ${n} times`);
}

describe("publisher: publish()", () => {
  it("(a) resends exactly the failed entries of partial failures until every record is stored once", async () => {
    const random = seeded(1);
    const stub = new StubKinesis((call, entries) =>
      call < 20 ? { fail: entries.flatMap((_, i) => (random() < 0.3 ? [i] : [])) } : undefined,
    );
    const summary = await publish(stub, "s", records(5000), { ...fast, concurrency: 4 });

    assertEachStoredOnce(stub, 5000);
    const injected = stub.calls.reduce((n, c) => n + c.failed.length, 0);
    assert.ok(injected > 100, `faults were injected (${injected})`);
    // Every entry was sent once plus once per failure: nothing extra, nothing missing.
    const failures = new Map<string, number>();
    for (const c of stub.calls) for (const i of c.failed) failures.set(c.entries[i].data, (failures.get(c.entries[i].data) ?? 0) + 1);
    for (let i = 0; i < 5000; i++) assert.strictEqual(stub.sentCount(`r${i}`), 1 + (failures.get(`r${i}`) ?? 0), `r${i}`);
    assert.strictEqual(summary.sent, 5000);
    assert.strictEqual(summary.failed.count, 0);
    assert.strictEqual(summary.retries.resentRecords, injected);
    assert.strictEqual(summary.requests, stub.calls.length);
  });

  it("(a) with one lane, the request after a partial failure holds exactly the failed entries, in order", async () => {
    const random = seeded(2);
    const stub = new StubKinesis(
      (call, entries) => (call < 10 ? { fail: entries.flatMap((_, i) => (random() < 0.3 ? [i] : [])) } : undefined),
      () => 2,
    );
    await publish(stub, "s", records(3000), { ...fast, concurrency: 1 });
    assertEachStoredOnce(stub, 3000);
    let checked = 0;
    stub.calls.forEach((c, n) => {
      if (c.failed.length === 0) return;
      const expected = c.failed.map((i) => c.entries[i].data);
      assert.deepStrictEqual(stub.calls[n + 1].entries.map((e) => e.data), expected, `call ${n + 1}`);
      checked++;
    });
    assert.ok(checked >= 5, `partial failures checked (${checked})`);
  });

  it("(b) resends whole batches after throttling, server and network errors, and counts them", async () => {
    const errors: Error[] = [
      throttled(),
      new LimitExceededException({ message: "limit", $metadata: { httpStatusCode: 400 } }),
      new KMSThrottlingException({ message: "kms", $metadata: { httpStatusCode: 400 } }),
      new InternalFailureException({ message: "boom", $metadata: { httpStatusCode: 500 } }),
      Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
      Object.assign(new Error("request timed out"), { name: "TimeoutError" }),
    ];
    const stub = new StubKinesis((call) => (call < errors.length ? { throw: errors[call] } : undefined));
    const summary = await publish(stub, "s", records(2000), { ...fast, concurrency: 2 });

    assertEachStoredOnce(stub, 2000);
    assert.strictEqual(summary.sent, 2000);
    assert.strictEqual(summary.retries.throttledRequests, errors.length);
    const resent = stub.calls.filter((c) => c.threw).reduce((n, c) => n + c.entries.length, 0);
    assert.strictEqual(summary.retries.resentRecords, resent);
    assert.deepStrictEqual(
      stub.calls.filter((c) => c.threw).map((c) => c.threw),
      errors.map((e) => e.name),
    );
  });

  it("(c) counts a record that never gets through within its budget as failed, and delivers the rest", async () => {
    const stub = new StubKinesis((_, entries) => ({ fail: entries.flatMap((e, i) => (e.key === "poison" ? [i] : [])) }));
    async function* source() {
      yield* records(500);
      yield { data: Buffer.from("poison"), partitionKey: "poison" };
      yield* records(500);
    }
    const started = Date.now();
    const summary = await publish(stub, "s", source(), { ...fast, recordTimeoutMs: 200, concurrency: 3 });

    assert.ok(Date.now() - started < 3000, "budget respected");
    assert.strictEqual(summary.records, 1001);
    assert.strictEqual(summary.sent, 1000);
    assert.deepStrictEqual(summary.failed, { count: 1, reasons: { ProvisionedThroughputExceededException: 1 } });
    assert.ok(stub.sentCount("poison") > 3, "the poison record was retried");
    assert.ok(!stub.stored.some((e) => e.data === "poison"));
  });

  it("(c) gives up on a stream that accepts nothing for a whole record budget, instead of trying every batch", async () => {
    const stub = new StubKinesis(() => ({ throw: throttled() }), () => 1);
    const started = Date.now();
    await assert.rejects(
      publish(stub, "s", records(200_000), { ...fast, recordTimeoutMs: 150, concurrency: 2 }),
      (err: Error) => err.name === "StalledError" && /accepted no record .*ProvisionedThroughputExceededException.*delivering 0 of/.test(err.message),
    );
    // Without the stall rule, 400 batches over 2 lanes would take 200 budgets of 150 ms each (30 s).
    assert.ok(Date.now() - started < 5_000, `gave up after ${Date.now() - started} ms`);
    assert.strictEqual(stub.stored.length, 0);
  });

  it("(c) fails an entry at once when its error code will not go away", async () => {
    const stub = new StubKinesis((_, entries) => ({
      fail: entries.flatMap((e, i) => (e.key === "r7" ? [i] : [])),
      code: "KMSAccessDeniedException",
    }));
    const summary = await publish(stub, "s", records(100), fast);
    assert.strictEqual(summary.sent, 99);
    assert.deepStrictEqual(summary.failed.reasons, { KMSAccessDeniedException: 1 });
    assert.strictEqual(stub.sentCount("r7"), 1);
  });

  it("(d) fills requests up to 500 records and never beyond", async () => {
    const stub = new StubKinesis(undefined, () => 3);
    await publish(stub, "s", records(2201), { ...fast, concurrency: 1 });
    assertEachStoredOnce(stub, 2201);
    assert.deepStrictEqual(stub.limitViolations, []);
    assert.strictEqual(Math.max(...stub.calls.map((c) => c.entries.length)), 500);
  });

  it("(d) keeps requests within 5 MiB, rejects records over 1 MiB and keys outside 1..256 characters", async () => {
    const big = (fill: string, bytes: number) => Buffer.alloc(bytes, fill);
    const source: PublishRecord[] = [];
    for (let i = 0; i < 12; i++) source.push({ data: big(String.fromCharCode(97 + i), 900 * 1024), partitionKey: `big${i}` });
    source.push({ data: big("x", KINESIS_LIMITS.maxRecordBytes - 4), partitionKey: "fits" }); // exactly 1 MiB with its key
    source.push({ data: big("y", KINESIS_LIMITS.maxRecordBytes - 3), partitionKey: "over" }); // 1 byte too many
    source.push({ data: Buffer.from("no key"), partitionKey: "" });
    source.push({ data: Buffer.from("long key"), partitionKey: "k".repeat(257) });
    const stub = new StubKinesis(undefined, () => 3);
    const summary = await publish(stub, "s", source, { ...fast, concurrency: 1 });

    assert.deepStrictEqual(stub.limitViolations, []);
    assert.ok(Math.max(...stub.calls.map((c) => c.entries.length)) >= 4, "big records are still batched");
    assert.strictEqual(summary.sent, 13);
    assert.deepStrictEqual(summary.failed, { count: 3, reasons: { RecordTooLarge: 1, InvalidPartitionKey: 2 } });
    assert.ok(!stub.calls.some((c) => c.entries.some((e) => e.key === "over" || e.key === "")), "rejected up front");
  });

  it("(e) never has one partition key in two requests at once, and keeps each key's order through faults", async () => {
    const random = seeded(3);
    const shardOf = (key: string) => createHash("md5").update(key).digest()[0] % 4;
    // Like a throttled shard: each request gets 40 entries per shard through, the rest of that shard fails.
    const stub = new StubKinesis(
      (call, entries) => {
        if (call >= 60) return undefined;
        if (call % 7 === 3) return { throw: throttled() };
        const accepted = [0, 0, 0, 0];
        return { fail: entries.flatMap((e, i) => (++accepted[shardOf(e.key)] > 40 ? [i] : [])) };
      },
      () => Math.floor(random() * 4),
    );
    const summary = await publish(stub, "s", records(6000, 20), { ...fast, concurrency: 6 });

    assertEachStoredOnce(stub, 6000);
    assert.deepStrictEqual(stub.overlaps, []);
    assert.ok(stub.maxConcurrent > 1, `requests ran concurrently (${stub.maxConcurrent})`);
    assert.ok(summary.retries.resentRecords > 0 && summary.retries.throttledRequests > 0, "faults were injected");
    const lastSeen = new Map<string, number>();
    for (const entry of stub.stored) {
      const seq = Number(entry.data.slice(1));
      assert.ok(seq > (lastSeen.get(entry.key) ?? -1), `${entry.key}: r${seq} stored after r${lastSeen.get(entry.key)}`);
      lastSeen.set(entry.key, seq);
    }
  });

  it("(f) aborts quickly on a non-retryable error, also while other lanes back off", async () => {
    const fatal: Error[] = [
      new ResourceNotFoundException({ message: "Stream s not found", $metadata: { httpStatusCode: 400 } }),
      new AccessDeniedException({ message: "denied", $metadata: { httpStatusCode: 400 } }),
      new ValidationException({ message: "bad", $metadata: { httpStatusCode: 400 } }),
      Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }),
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
    ];
    for (const error of fatal) {
      let pulled = 0;
      function* source() {
        for (const r of records(1_000_000)) {
          pulled++;
          yield r;
        }
      }
      // The first requests are throttled (their records back off for up to 10 s), a later one fails for good.
      const stub = new StubKinesis((call) => ({ throw: call === 2 ? error : throttled() }));
      const started = Date.now();
      await assert.rejects(publish(stub, "s", source(), { backoff: { baseMs: 10_000, capMs: 10_000 } }), (err: Error) => err === error);
      assert.ok(Date.now() - started < 1000, `${error.name} aborted at once`);
      assert.ok(pulled < 20_000, `${error.name}: source not drained (${pulled})`);
    }
  });

  it("(f) keeps retrying connection refusals once something was delivered", async () => {
    const refused = () => Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const stub = new StubKinesis((call) => (call >= 1 && call < 4 ? { throw: refused() } : undefined));
    const summary = await publish(stub, "s", records(3000), { ...fast, concurrency: 1 });
    assert.strictEqual(summary.sent, 3000);
    assert.strictEqual(summary.retries.throttledRequests, 3);
  });

  it("rejects with the source's error", async () => {
    function* broken(): Generator<PublishRecord> {
      yield* records(10);
      throw new Error("source broke");
    }
    await assert.rejects(publish(new StubKinesis(), "s", broken(), fast), /source broke/);
  });

  it("pulls records lazily: memory stays bounded by the lanes' queues", async () => {
    const stub = new StubKinesis();
    const concurrency = 4;
    const source = new AheadOf(stub, records(200_000));
    const summary = await publish(stub, "s", source, { ...fast, concurrency });
    assert.strictEqual(summary.sent, 200_000);
    // Per lane: one request in flight plus two queued.
    assert.ok(source.maxAhead <= concurrency * 3 * KINESIS_LIMITS.maxRecordsPerRequest + 1, `ahead by ${source.maxAhead}`);
  });

  it("keeps memory bounded across many shards: all queues together hold two requests per sender", async () => {
    // A stream of 200 shards: each has its own queue; alone, their per-queue bounds would let the source
    // run 200,000 records ahead.
    const shards = evenShards(200);
    const stub = new StubKinesis(undefined, () => 2);
    const sender = {
      send: (command: PutRecordsCommand) =>
        (command as unknown) instanceof ListShardsCommand ? Promise.resolve({ Shards: shards, $metadata: {} }) : stub.send(command),
    } as PutRecordsSender;
    const source = new AheadOf(stub, records(60_000));
    const concurrency = 4;
    const summary = await publish(sender, "s", source, { ...fast, concurrency, shardLimits: { recordsPerSecond: 1e9, bytesPerSecond: 1e12 } });
    assert.strictEqual(summary.shards, 200, "paced per shard");
    assert.strictEqual(summary.sent, 60_000);
    // Queued: two requests per sender (plus one record per queue that was empty); in flight: one request per sender.
    const bound = concurrency * 3 * KINESIS_LIMITS.maxRecordsPerRequest + shards.length;
    assert.ok(source.maxAhead <= bound, `ahead by ${source.maxAhead} (bound ${bound})`);
  });

  it("stops taking records when signalled, delivers those taken, and reports progress", async () => {
    const interrupt = new AbortController();
    const progress: number[] = [];
    const summary = await publish(new StubKinesis(undefined, () => 1), "s", records(100_000), {
      ...fast,
      total: 100_000,
      signal: interrupt.signal,
      onProgress: (sent, total) => {
        assert.strictEqual(total, 100_000);
        progress.push(sent);
        if (sent >= 2000) interrupt.abort();
      },
    });
    assert.ok(summary.interrupted);
    assert.ok(summary.records < 100_000);
    assert.strictEqual(summary.sent, summary.records);
    assert.deepStrictEqual(progress, [...progress].sort((a, b) => a - b));
    assert.strictEqual(progress[progress.length - 1], summary.sent);
  });
});
