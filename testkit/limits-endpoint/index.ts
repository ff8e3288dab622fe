/**
 * A local Kinesis endpoint that enforces Kinesis Data Streams' per-shard limits in front of a backend:
 *
 *   writes  1,000 records/s and 1 MiB/s per shard (data + partition key). PutRecords rejects the entries
 *           over the limit one by one (`FailedRecordCount`, `ErrorCode: ProvisionedThroughputExceededException`)
 *           and forwards only the rest; PutRecord over the limit fails with HTTP 400.
 *   reads   5 GetRecords calls/s and 2 MiB/s per shard; over the limit GetRecords fails with HTTP 400
 *           `ProvisionedThroughputExceededException`. A read that returns more than the byte budget puts
 *           the shard in debt, so the next calls are throttled until the budget has refilled (AWS: "the
 *           subsequent GetRecords calls are throttled").
 *
 * The backend is either an HTTP Kinesis endpoint (kinesis-local) that every call is forwarded to, or
 * `"null"`: an in-memory endpoint that accepts every valid write at once and keeps nothing (for measuring
 * the client itself). Both speak the protocol @aws-sdk/client-kinesis v3 uses: awsJson1_1 over HTTP/1.1
 * (`X-Amz-Target: Kinesis_20131202.<Operation>`, `Content-Type: application/x-amz-json-1.1`, record data
 * base64 in JSON). Errors use the awsJson1_1 error shape the SDK parses: HTTP 400,
 * `x-amzn-ErrorType` and `{"__type": ..., "message": ...}`.
 *
 * Records are attributed to shards as Kinesis does: MD5 of the partition key (or the ExplicitHashKey) as
 * a 128-bit integer, in the hash range of an open shard from ListShards. The shard map is refreshed every
 * second and at once after SplitShard / MergeShards / UpdateShardCount pass through. GetRecords calls are
 * attributed through the shard iterators this endpoint handed out (GetShardIterator and NextShardIterator).
 *
 * Counters (per stream and in total) are served at `GET /__limits/stats` and reset by
 * `POST /__limits/reset`, so a benchmark in another process can read them.
 *
 * Run on its own: `ts-node --transpile-only testkit/limits-endpoint/index.ts --backend http://127.0.0.1:4567`
 * (or `--backend null --shards 4`); it prints `LIMITS_ENDPOINT=http://127.0.0.1:<port>` on stdout.
 *
 * Not covered: SubscribeToShard (HTTP/2 event streams; enhanced fan-out has its own 2 MiB/s per consumer,
 * so point it at the emulator directly) and the CBOR protocol (answered with an error, never unlimited).
 */
import { ListShardsCommand, Shard } from "@aws-sdk/client-kinesis";
import * as http from "http";
import { AddressInfo } from "net";
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { createKinesisClient } from "../../apps/lib/client";
import { evenShards, FastShardLookup, hashKeyOf, ShardMap } from "../../apps/publisher/shard-map";

export { evenShards, hashKeyOf, ShardMap } from "../../apps/publisher/shard-map";

export type ShardLimits = Record<"writeRecordsPerSecond" | "writeBytesPerSecond" | "readCallsPerSecond" | "readBytesPerSecond", number>;

/** Kinesis Data Streams per-shard limits. */
export const SHARD_LIMITS: ShardLimits = {
  writeRecordsPerSecond: 1000,
  writeBytesPerSecond: 1024 * 1024,
  readCallsPerSecond: 5,
  readBytesPerSecond: 2 * 1024 * 1024,
};

export interface NullBackendOptions {
  type: "null";
  /** Shards of a stream the null backend has not seen created. @default 1 */
  shards?: number;
  /**
   * Check the records accepted: each record's data is JSON and `field` a number that grows per partition
   * key; counts distinct values seen and order violations per key (see `LimitsStats.check`). @default off
   */
  checkField?: string;
}

export interface LimitsEndpointOptions {
  /** `http://host:port` of a Kinesis endpoint to forward to, or a null backend. */
  backend: string | NullBackendOptions;
  /** Enforce the limits. `false` passes everything (a client-ceiling measurement). @default true */
  enforce?: boolean;
  /** Per-shard limits. @default SHARD_LIMITS (Kinesis's) */
  limits?: Partial<ShardLimits>;
  /** Milliseconds between shard-map refreshes. @default 1000 */
  shardMapRefreshMs?: number;
  /** Clock in ms (tests). @default Date.now */
  now?: () => number;
  /** Port on 127.0.0.1. @default 0 (a free port) */
  port?: number;
}

export interface LimitsStats {
  /** PutRecords calls and entries received, entries rejected for the shard limits. */
  putRecordsCalls: number;
  putRecordsEntries: number;
  putRecordsThrottledEntries: number;
  /** PutRecord calls received and throttled. */
  putRecordCalls: number;
  putRecordThrottled: number;
  /** Records and bytes (data + partition key) accepted and passed to the backend. */
  acceptedRecords: number;
  acceptedBytes: number;
  /** GetRecords calls received, throttled, and data bytes returned. */
  getRecordsCalls: number;
  getRecordsThrottled: number;
  readBytes: number;
  /** First and last accepted write (ms since epoch), to compute a rate. */
  firstWriteAt?: number;
  lastWriteAt?: number;
  /** With `checkField`: distinct values accepted, and records whose value did not grow for their key. */
  check?: { distinct: number; duplicates: number; orderViolations: number };
}

export interface LimitsEndpoint {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Counters of one stream, or of all streams together. */
  stats(stream?: string): LimitsStats;
  resetStats(): void;
  close(): Promise<void>;
}

const JSON_CONTENT_TYPE = "application/x-amz-json-1.1";
const TARGET_PREFIX = "Kinesis_20131202.";

/** A token bucket holding at most one second of `rate`; it may go into debt (`take(…, true)`). */
export class TokenBucket {
  private tokens: number;
  private updated: number;
  constructor(
    readonly rate: number,
    private readonly now: () => number,
    readonly capacity = rate,
  ) {
    this.tokens = capacity;
    this.updated = now();
  }
  available(): number {
    const t = this.now();
    if (t > this.updated) {
      this.tokens = Math.min(this.capacity, this.tokens + ((t - this.updated) * this.rate) / 1000);
      this.updated = t;
    }
    return this.tokens;
  }
  /** Takes `n` when available (or always, with `debt`); returns whether it was taken. */
  take(n: number, debt = false): boolean {
    if (!debt && this.available() < n) return false;
    if (debt) this.available();
    this.tokens -= n;
    return true;
  }
}

/** Decoded length of a base64 string without decoding it. */
function base64Length(s: string): number {
  let pad = 0;
  if (s.endsWith("==")) pad = 2;
  else if (s.endsWith("=")) pad = 1;
  return Math.floor((s.length * 3) / 4) - pad;
}

function streamNameOf(input: { StreamName?: string; StreamARN?: string }): string {
  if (input.StreamName) return input.StreamName;
  const arn = input.StreamARN ?? "";
  return arn.slice(arn.indexOf("/") + 1);
}

class HttpReply {
  constructor(
    readonly status: number,
    readonly body: Buffer | string,
    readonly headers: Record<string, string> = {},
  ) {}
  static json(value: unknown): HttpReply {
    return new HttpReply(200, JSON.stringify(value), { "content-type": JSON_CONTENT_TYPE });
  }
  static error(type: string, message: string, status = 400): HttpReply {
    return new HttpReply(status, JSON.stringify({ __type: type, message }), {
      "content-type": JSON_CONTENT_TYPE,
      "x-amzn-errortype": type,
    });
  }
}

interface PutEntry {
  Data: string;
  PartitionKey: string;
  ExplicitHashKey?: string;
}

interface PutResult {
  SequenceNumber?: string;
  ShardId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

/** What a backend must do: answer one awsJson1_1 call. */
interface Backend {
  call(target: string, body: Buffer, headers: http.IncomingHttpHeaders): Promise<HttpReply>;
  listShards(stream: string): Promise<Shard[]>;
  close(): void;
}

/** Forwards every call to an HTTP Kinesis endpoint (kinesis-local). */
class HttpBackend implements Backend {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly url: URL;
  private readonly client;
  constructor(endpoint: string) {
    this.url = new URL(endpoint);
    this.client = createKinesisClient({ endpoint, maxAttempts: 3 });
  }
  call(target: string, body: Buffer, headers: http.IncomingHttpHeaders): Promise<HttpReply> {
    const out: http.OutgoingHttpHeaders = { ...headers, host: this.url.host, "content-length": String(body.length) };
    delete out.connection;
    delete out["transfer-encoding"];
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.url.hostname, port: this.url.port, path: "/", method: "POST", headers: out, agent: this.agent, timeout: 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) {
              if (v === undefined || k === "content-length" || k === "transfer-encoding" || k === "connection") continue;
              headers[k] = Array.isArray(v) ? v.join(", ") : v;
            }
            resolve(new HttpReply(res.statusCode ?? 502, Buffer.concat(chunks), headers));
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`backend did not answer ${target} within 30 s`)));
      req.on("error", reject);
      req.end(body);
    });
  }
  async listShards(stream: string): Promise<Shard[]> {
    const shards: Shard[] = [];
    let token: string | undefined;
    do {
      const out = await this.client.send(
        new ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }),
      );
      shards.push(...(out.Shards ?? []));
      token = out.NextToken;
    } while (token);
    return shards;
  }
  close(): void {
    this.agent.destroy();
    this.client.destroy();
  }
}

/** Accepts every valid write at once and keeps nothing; enough of the API for publishers and readers. */
class NullBackend implements Backend {
  private readonly streams = new Map<string, { shards: Shard[]; map: FastShardLookup }>();
  private seq = 0;
  constructor(private readonly options: NullBackendOptions) {}

  private stream(name: string) {
    let s = this.streams.get(name);
    if (!s) {
      const shards = evenShards(this.options.shards ?? 1);
      s = { shards, map: new FastShardLookup(new ShardMap(shards)) };
      this.streams.set(name, s);
    }
    return s;
  }
  private nextSeq(): string {
    this.seq++;
    return `4960${this.seq}`;
  }
  /** Shard of one entry (the limits layer has usually decided it already). */
  shardOf(stream: string, e: PutEntry): string {
    return this.stream(stream).map.shardOfKey(e.PartitionKey, e.ExplicitHashKey) ?? "shardId-000000000000";
  }
  putResults(stream: string, records: PutEntry[], shardIds?: (string | undefined)[]): PutResult[] {
    return records.map((e, i) => ({ SequenceNumber: this.nextSeq(), ShardId: shardIds?.[i] ?? this.shardOf(stream, e) }));
  }
  async call(target: string, body: Buffer): Promise<HttpReply> {
    const input = body.length > 0 ? JSON.parse(body.toString("utf8")) : {};
    const name = streamNameOf(input);
    switch (target) {
      case "CreateStream": {
        const shards = evenShards(input.ShardCount ?? this.options.shards ?? 1);
        this.streams.set(name, { shards, map: new FastShardLookup(new ShardMap(shards)) });
        return HttpReply.json({});
      }
      case "DeleteStream":
        this.streams.delete(name);
        return HttpReply.json({});
      case "DescribeStreamSummary": {
        const s = this.stream(name);
        return HttpReply.json({
          StreamDescriptionSummary: {
            StreamName: name,
            StreamARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${name}`,
            StreamStatus: "ACTIVE",
            StreamModeDetails: { StreamMode: "PROVISIONED" },
            RetentionPeriodHours: 24,
            StreamCreationTimestamp: 0,
            EnhancedMonitoring: [],
            EncryptionType: "NONE",
            OpenShardCount: s.shards.length,
            ConsumerCount: 0,
          },
        });
      }
      case "ListShards":
        return HttpReply.json({ Shards: this.stream(name).shards });
      case "PutRecords": {
        const records = (input.Records ?? []) as PutEntry[];
        const problem = validatePutRecords(records);
        if (problem) return HttpReply.error("InvalidArgumentException", problem);
        return HttpReply.json({ FailedRecordCount: 0, Records: this.putResults(name, records) });
      }
      case "PutRecord": {
        const problem = validatePutRecords([input]);
        if (problem) return HttpReply.error("InvalidArgumentException", problem);
        const [r] = this.putResults(name, [input]);
        return HttpReply.json({ SequenceNumber: r.SequenceNumber, ShardId: r.ShardId });
      }
      case "GetShardIterator":
        return HttpReply.json({ ShardIterator: `null|${name}|${input.ShardId}` });
      case "GetRecords":
        return HttpReply.json({ Records: [], NextShardIterator: input.ShardIterator, MillisBehindLatest: 0 });
      default:
        return HttpReply.error("UnknownOperationException", `the null backend does not implement ${target}`);
    }
  }
  async listShards(stream: string): Promise<Shard[]> {
    return this.stream(stream).shards;
  }
  close(): void {}
}

/** Kinesis's request limits for PutRecords, checked before anything is accepted. */
function validatePutRecords(records: PutEntry[]): string | undefined {
  if (records.length < 1 || records.length > 500) return `PutRecords takes 1 to 500 records, got ${records.length}`;
  let total = 0;
  for (const r of records) {
    if (typeof r.PartitionKey !== "string" || r.PartitionKey.length < 1 || r.PartitionKey.length > 256) {
      return "partition keys must be 1 to 256 characters";
    }
    const size = base64Length(r.Data ?? "") + Buffer.byteLength(r.PartitionKey, "utf8");
    if (size > 1024 * 1024) return "a record (data + partition key) is over 1 MiB";
    total += size;
  }
  if (total > 5 * 1024 * 1024) return "a PutRecords request is over 5 MiB";
  return undefined;
}

function emptyStats(): LimitsStats {
  return {
    putRecordsCalls: 0,
    putRecordsEntries: 0,
    putRecordsThrottledEntries: 0,
    putRecordCalls: 0,
    putRecordThrottled: 0,
    acceptedRecords: 0,
    acceptedBytes: 0,
    getRecordsCalls: 0,
    getRecordsThrottled: 0,
    readBytes: 0,
  };
}

interface ShardBuckets {
  writeRecords: TokenBucket;
  writeBytes: TokenBucket;
  readCalls: TokenBucket;
  readBytes: TokenBucket;
}

/** The limits layer: shard maps, buckets, counters; independent of HTTP so it can be unit-tested. */
export class LimitsEnforcer {
  private readonly backend: Backend;
  private readonly limits: ShardLimits;
  private readonly now: () => number;
  private readonly enforce: boolean;
  private readonly refreshMs: number;
  private readonly maps = new Map<string, { map: FastShardLookup; at: number; loading?: Promise<FastShardLookup> }>();
  private readonly buckets = new Map<string, ShardBuckets>();
  /** Shard iterator → "stream shardId", for attributing GetRecords. */
  private readonly iterators = new Map<string, string>();
  private readonly perStream = new Map<string, LimitsStats>();
  private total = emptyStats();
  private checks = new Map<string, { lastByKey: Map<string, number>; seen: Set<number>; duplicates: number; violations: number }>();

  constructor(private readonly options: LimitsEndpointOptions) {
    this.backend = typeof options.backend === "string" ? new HttpBackend(options.backend) : new NullBackend(options.backend);
    this.limits = { ...SHARD_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
    this.enforce = options.enforce ?? true;
    this.refreshMs = options.shardMapRefreshMs ?? 1000;
  }

  stats(stream?: string): LimitsStats {
    const s = stream === undefined ? this.total : (this.perStream.get(stream) ?? emptyStats());
    const out = { ...s };
    const check = stream === undefined ? undefined : this.checks.get(stream);
    if (check) out.check = { distinct: check.seen.size, duplicates: check.duplicates, orderViolations: check.violations };
    return out;
  }
  resetStats(): void {
    this.total = emptyStats();
    this.perStream.clear();
    this.checks.clear();
  }
  close(): void {
    this.backend.close();
  }

  private count(stream: string, f: (s: LimitsStats) => void): void {
    f(this.total);
    let s = this.perStream.get(stream);
    if (!s) this.perStream.set(stream, (s = emptyStats()));
    f(s);
  }

  private bucketsOf(stream: string, shardId: string): ShardBuckets {
    const id = `${stream} ${shardId}`;
    let b = this.buckets.get(id);
    if (!b) {
      const l = this.limits;
      b = {
        writeRecords: new TokenBucket(l.writeRecordsPerSecond, this.now),
        writeBytes: new TokenBucket(l.writeBytesPerSecond, this.now),
        readCalls: new TokenBucket(l.readCallsPerSecond, this.now),
        readBytes: new TokenBucket(l.readBytesPerSecond, this.now),
      };
      this.buckets.set(id, b);
    }
    return b;
  }

  /** The stream's open shards, refreshed when older than the refresh interval (or when forced). */
  async shardMap(stream: string, force = false): Promise<FastShardLookup> {
    const entry = this.maps.get(stream);
    if (entry && !force && this.now() - entry.at < this.refreshMs) return entry.map;
    if (entry?.loading) return entry.loading;
    const loading = this.backend.listShards(stream).then(
      (shards) => {
        const map = new FastShardLookup(new ShardMap(shards));
        this.maps.set(stream, { map, at: this.now() });
        return map;
      },
      (err) => {
        if (entry) this.maps.set(stream, { map: entry.map, at: entry.at });
        else this.maps.delete(stream);
        throw err;
      },
    );
    this.maps.set(stream, { map: entry?.map ?? new FastShardLookup(new ShardMap([])), at: entry?.at ?? -Infinity, loading });
    return loading;
  }

  /** Answers one call: `target` without the `Kinesis_20131202.` prefix, the raw JSON body. */
  async handle(target: string, body: Buffer, headers: http.IncomingHttpHeaders): Promise<HttpReply> {
    switch (target) {
      case "PutRecords":
        return this.putRecords(body, headers);
      case "PutRecord":
        return this.putRecord(body, headers);
      case "GetShardIterator": {
        const input = JSON.parse(body.toString("utf8"));
        const reply = await this.backend.call(target, body, headers);
        if (reply.status === 200) {
          const out = JSON.parse(reply.body.toString());
          if (out.ShardIterator) this.remember(out.ShardIterator, `${streamNameOf(input)} ${input.ShardId}`);
        }
        return reply;
      }
      case "GetRecords":
        return this.getRecords(body, headers);
      case "SplitShard":
      case "MergeShards":
      case "UpdateShardCount": {
        const reply = await this.backend.call(target, body, headers);
        this.maps.delete(streamNameOf(JSON.parse(body.toString("utf8"))));
        return reply;
      }
      default:
        return this.backend.call(target, body, headers);
    }
  }

  private remember(iterator: string, shard: string): void {
    this.iterators.set(iterator, shard);
    if (this.iterators.size > 200_000) {
      // Forget the oldest half; a reader holding one of those gets no read limit, not an error.
      let n = 0;
      for (const key of this.iterators.keys()) {
        if (n++ > 100_000) break;
        this.iterators.delete(key);
      }
    }
  }

  private async putRecords(body: Buffer, headers: http.IncomingHttpHeaders): Promise<HttpReply> {
    const input = JSON.parse(body.toString("utf8")) as { Records?: PutEntry[]; StreamName?: string; StreamARN?: string };
    const stream = streamNameOf(input);
    const records = input.Records ?? [];
    this.count(stream, (s) => {
      s.putRecordsCalls++;
      s.putRecordsEntries += records.length;
    });
    const problem = validatePutRecords(records);
    if (problem) return HttpReply.error("InvalidArgumentException", problem);
    const results: PutResult[] = new Array(records.length);
    const accepted: PutEntry[] = [];
    const acceptedIndex: number[] = [];
    const acceptedShard: (string | undefined)[] = [];
    let acceptedBytes = 0;
    if (this.enforce) {
      let map = await this.shardMap(stream);
      for (let i = 0; i < records.length; i++) {
        const e = records[i];
        const size = base64Length(e.Data) + Buffer.byteLength(e.PartitionKey, "utf8");
        let shardId = map.shardOfKey(e.PartitionKey, e.ExplicitHashKey);
        if (shardId === undefined) {
          map = await this.shardMap(stream, true);
          shardId = map.shardOfKey(e.PartitionKey, e.ExplicitHashKey);
        }
        if (shardId !== undefined) {
          const b = this.bucketsOf(stream, shardId);
          if (b.writeRecords.available() < 1 || b.writeBytes.available() < size) {
            results[i] = {
              ErrorCode: "ProvisionedThroughputExceededException",
              ErrorMessage: `Rate exceeded for shard ${shardId} in stream ${stream} under account 000000000000.`,
            };
            continue;
          }
          b.writeRecords.take(1);
          b.writeBytes.take(size);
        }
        accepted.push(e);
        acceptedIndex.push(i);
        acceptedShard.push(shardId);
        acceptedBytes += size;
      }
    } else {
      for (let i = 0; i < records.length; i++) {
        accepted.push(records[i]);
        acceptedIndex.push(i);
      }
    }
    const rejected = records.length - accepted.length;
    if (rejected > 0) this.count(stream, (s) => (s.putRecordsThrottledEntries += rejected));
    if (accepted.length > 0) {
      let backendResults: PutResult[];
      if (this.backend instanceof NullBackend) {
        backendResults = this.backend.putResults(stream, accepted, this.enforce ? acceptedShard : undefined);
      } else {
        const forwarded = rejected === 0 ? body : Buffer.from(JSON.stringify({ ...input, Records: accepted }));
        const reply = await this.backend.call("PutRecords", forwarded, headers);
        if (reply.status !== 200) return reply;
        backendResults = (JSON.parse(reply.body.toString("utf8")) as { Records: PutResult[] }).Records;
      }
      let backendFailed = 0;
      for (let j = 0; j < accepted.length; j++) {
        results[acceptedIndex[j]] = backendResults[j];
        if (backendResults[j].ErrorCode) backendFailed++;
      }
      const now = this.now();
      this.count(stream, (s) => {
        s.acceptedRecords += accepted.length - backendFailed;
        s.acceptedBytes += acceptedBytes;
        s.firstWriteAt ??= now;
        s.lastWriteAt = now;
      });
      if (typeof this.options.backend !== "string" && this.options.backend.checkField) {
        this.check(stream, accepted, backendResults, this.options.backend.checkField);
      }
    }
    const failed = results.filter((r) => r.ErrorCode).length;
    return HttpReply.json({ FailedRecordCount: failed, Records: results });
  }

  private check(stream: string, accepted: PutEntry[], results: PutResult[], field: string): void {
    let c = this.checks.get(stream);
    if (!c) this.checks.set(stream, (c = { lastByKey: new Map(), seen: new Set(), duplicates: 0, violations: 0 }));
    for (let i = 0; i < accepted.length; i++) {
      if (results[i].ErrorCode) continue;
      const value = Number(JSON.parse(Buffer.from(accepted[i].Data, "base64").toString("utf8"))[field]);
      if (c.seen.has(value)) c.duplicates++;
      else c.seen.add(value);
      const key = accepted[i].PartitionKey;
      const last = c.lastByKey.get(key);
      if (last !== undefined && value <= last) c.violations++;
      c.lastByKey.set(key, Math.max(value, last ?? -Infinity));
    }
  }

  private async putRecord(body: Buffer, headers: http.IncomingHttpHeaders): Promise<HttpReply> {
    const input = JSON.parse(body.toString("utf8")) as PutEntry & { StreamName?: string; StreamARN?: string };
    const stream = streamNameOf(input);
    this.count(stream, (s) => s.putRecordCalls++);
    const size = base64Length(input.Data ?? "") + Buffer.byteLength(input.PartitionKey ?? "", "utf8");
    if (this.enforce && typeof input.PartitionKey === "string") {
      let shardId = (await this.shardMap(stream)).shardOfKey(input.PartitionKey, input.ExplicitHashKey);
      if (shardId === undefined) shardId = (await this.shardMap(stream, true)).shardOfKey(input.PartitionKey, input.ExplicitHashKey);
      if (shardId !== undefined) {
        const b = this.bucketsOf(stream, shardId);
        if (b.writeRecords.available() < 1 || b.writeBytes.available() < size) {
          this.count(stream, (s) => s.putRecordThrottled++);
          return HttpReply.error(
            "ProvisionedThroughputExceededException",
            `Rate exceeded for shard ${shardId} in stream ${stream} under account 000000000000.`,
          );
        }
        b.writeRecords.take(1);
        b.writeBytes.take(size);
      }
    }
    const reply = await this.backend.call("PutRecord", body, headers);
    if (reply.status === 200) {
      const now = this.now();
      this.count(stream, (s) => {
        s.acceptedRecords++;
        s.acceptedBytes += size;
        s.firstWriteAt ??= now;
        s.lastWriteAt = now;
      });
    }
    return reply;
  }

  private async getRecords(body: Buffer, headers: http.IncomingHttpHeaders): Promise<HttpReply> {
    const input = JSON.parse(body.toString("utf8")) as { ShardIterator?: string };
    const iterator = input.ShardIterator ?? "";
    const shard = this.iterators.get(iterator) ?? (iterator.startsWith("null|") ? iterator.slice(5).replace("|", " ") : undefined);
    const stream = shard?.slice(0, shard.indexOf(" ")) ?? "";
    this.count(stream, (s) => s.getRecordsCalls++);
    let buckets: ShardBuckets | undefined;
    if (this.enforce && shard !== undefined) {
      buckets = this.bucketsOf(stream, shard.slice(shard.indexOf(" ") + 1));
      // The byte budget may be in debt after a large read: throttled until it has refilled.
      if (buckets.readBytes.available() < 0 || !buckets.readCalls.take(1)) {
        this.count(stream, (s) => s.getRecordsThrottled++);
        return HttpReply.error(
          "ProvisionedThroughputExceededException",
          `Rate exceeded for shard ${shard.slice(shard.indexOf(" ") + 1)} in stream ${stream} under account 000000000000.`,
        );
      }
    }
    const reply = await this.backend.call("GetRecords", body, headers);
    if (reply.status !== 200) return reply;
    const out = JSON.parse(reply.body.toString("utf8")) as { Records?: { Data: string }[]; NextShardIterator?: string };
    let bytes = 0;
    for (const r of out.Records ?? []) bytes += base64Length(r.Data ?? "");
    if (buckets) buckets.readBytes.take(bytes, true);
    if (out.NextShardIterator && shard !== undefined) this.remember(out.NextShardIterator, shard);
    this.count(stream, (s) => (s.readBytes += bytes));
    return reply;
  }
}

/** Starts the endpoint in this process. */
export async function startLimitsEndpoint(options: LimitsEndpointOptions): Promise<LimitsEndpoint> {
  const enforcer = new LimitsEnforcer(options);
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      void answer(req, body).then(
        (reply) => {
          res.writeHead(reply.status, { ...reply.headers, "content-length": String(Buffer.byteLength(reply.body)) });
          res.end(reply.body);
        },
        (err: Error) => {
          const reply = HttpReply.error("InternalFailure", `limits endpoint: ${err.message}`, 500);
          res.writeHead(reply.status, { ...reply.headers, "content-length": String(Buffer.byteLength(reply.body)) });
          res.end(reply.body);
        },
      );
    });
  });
  const answer = async (req: http.IncomingMessage, body: Buffer): Promise<HttpReply> => {
    const url = req.url ?? "/";
    if (url.startsWith("/__limits/")) {
      if (req.method === "POST" && url === "/__limits/reset") {
        enforcer.resetStats();
        return HttpReply.json({});
      }
      const stream = new URL(url, "http://x").searchParams.get("stream") ?? undefined;
      return HttpReply.json(enforcer.stats(stream));
    }
    const contentType = String(req.headers["content-type"] ?? "");
    if (contentType.includes("cbor")) {
      return HttpReply.error("UnsupportedMediaType", "the limits endpoint speaks awsJson1_1 (JSON) only, as @aws-sdk/client-kinesis v3 does");
    }
    const target = String(req.headers["x-amz-target"] ?? "");
    if (!target.startsWith(TARGET_PREFIX)) return HttpReply.error("UnknownOperationException", `no Kinesis target in X-Amz-Target: "${target}"`);
    return enforcer.handle(target.slice(TARGET_PREFIX.length), body, req.headers);
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: (stream) => enforcer.stats(stream),
    resetStats: () => enforcer.resetStats(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        enforcer.close();
      });
      return closing;
    },
  };
}

/** The endpoint in a child process (so it does not share a CPU with the client being measured). */
export interface ChildLimitsEndpoint {
  readonly endpoint: string;
  stats(stream?: string): Promise<LimitsStats>;
  resetStats(): Promise<void>;
  stop(): Promise<void>;
}

function getJson(url: string, method = "GET"): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`${url} did not answer within 10 s`)));
    req.on("error", reject);
    req.end();
  });
}

export async function spawnLimitsEndpoint(options: Omit<LimitsEndpointOptions, "now">): Promise<ChildLimitsEndpoint> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.join(__dirname, "index.ts"), "--options", JSON.stringify(options)],
    { stdio: ["ignore", "pipe", "inherit"], cwd: path.join(__dirname, "..", "..") },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("the limits endpoint did not start within 60 s")), 60_000);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /LIMITS_ENDPOINT=(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the limits endpoint exited during start-up (status ${code})`));
    });
  });
  return {
    endpoint,
    stats: (stream) => getJson(`${endpoint}/__limits/stats${stream ? `?stream=${encodeURIComponent(stream)}` : ""}`) as Promise<LimitsStats>,
    resetStats: async () => void (await getJson(`${endpoint}/__limits/reset`, "POST")),
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  let options: LimitsEndpointOptions;
  if (flag("--options")) options = JSON.parse(flag("--options")!);
  else {
    const backend = flag("--backend");
    if (!backend) {
      process.stderr.write("usage: testkit/limits-endpoint/index.ts --backend http://127.0.0.1:PORT | --backend null [--shards N] [--no-enforce]\n");
      process.exit(2);
    }
    options = {
      backend: backend === "null" ? { type: "null", shards: Number(flag("--shards") ?? 1) } : backend,
      enforce: !args.includes("--no-enforce"),
    };
  }
  startLimitsEndpoint(options).then(
    (ep) => {
      process.stdout.write(`LIMITS_ENDPOINT=${ep.endpoint}\n`);
      const stop = () => void ep.close().then(() => process.exit(0));
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    },
    (err: Error) => {
      process.stderr.write(`error: limits endpoint could not start: ${err.message}\n`);
      process.exit(1);
    },
  );
}
