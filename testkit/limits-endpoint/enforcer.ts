/**
 * The limits layer: per-shard token buckets in front of a backend, with the shard maps that attribute
 * records to shards and the shard iterators that attribute reads; independent of HTTP so it can be
 * unit-tested.
 *
 *   writes  PutRecords rejects the entries over the limit one by one (`FailedRecordCount`, `ErrorCode:
 *           ProvisionedThroughputExceededException`) and forwards only the rest; PutRecord over the limit
 *           fails with HTTP 400.
 *   reads   over the limit GetRecords fails with HTTP 400 `ProvisionedThroughputExceededException`. A read
 *           that returns more than the byte budget puts the shard in debt, so the next calls are throttled
 *           until the budget has refilled (AWS: "the subsequent GetRecords calls are throttled").
 *
 * Records are attributed to shards as Kinesis does: MD5 of the partition key (or the ExplicitHashKey) as
 * a 128-bit integer, in the hash range of an open shard from ListShards. The shard map is refreshed every
 * second and at once after SplitShard / MergeShards / UpdateShardCount pass through. GetRecords calls are
 * attributed through the shard iterators this endpoint handed out (GetShardIterator and NextShardIterator).
 */
import * as http from "http";
import { FastShardLookup, ShardMap } from "../../runtime/producer/shard-map";
import { Backend, HttpBackend, NullBackend } from "./backends";
import { LimitsEndpointOptions, SHARD_LIMITS, ShardLimits } from "./options";
import { validatePutRecords } from "./put-records-validation";
import { LimitsCounters, LimitsStats } from "./stats";
import { TokenBucket } from "./token-bucket";
import { base64Length, HttpReply, PutEntry, PutResult, streamNameOf } from "./wire";

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
  private readonly counters = new LimitsCounters();

  constructor(private readonly options: LimitsEndpointOptions) {
    this.backend = typeof options.backend === "string" ? new HttpBackend(options.backend) : new NullBackend(options.backend);
    this.limits = { ...SHARD_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
    this.enforce = options.enforce ?? true;
    this.refreshMs = options.shardMapRefreshMs ?? 1000;
  }

  /** Counters of one stream, or of all streams together. */
  stats(stream?: string): LimitsStats {
    return this.counters.stats(stream);
  }
  resetStats(): void {
    this.counters.reset();
  }
  close(): void {
    this.backend.close();
  }

  private count(stream: string, f: (s: LimitsStats) => void): void {
    this.counters.count(stream, f);
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
        this.counters.check(stream, accepted, backendResults, this.options.backend.checkField);
      }
    }
    const failed = results.filter((r) => r.ErrorCode).length;
    return HttpReply.json({ FailedRecordCount: failed, Records: results });
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
