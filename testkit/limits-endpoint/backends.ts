/**
 * What the limits endpoint forwards to: an HTTP Kinesis endpoint (kinesis-local), or the null backend, an
 * in-memory endpoint that accepts every valid write at once and keeps nothing (for measuring the client).
 */
import { ListShardsCommand, Shard } from "@aws-sdk/client-kinesis";
import * as http from "http";
import { createKinesisClient } from "../../runtime/client";
import { evenShards, FastShardLookup, ShardMap } from "../../runtime/producer/shard-map";
import { NullBackendOptions } from "./options";
import { validatePutRecords } from "./put-records-validation";
import { HttpReply, PutEntry, PutResult, streamNameOf } from "./wire";

/** What a backend must do: answer one awsJson1_1 call. */
export interface Backend {
  call(target: string, body: Buffer, headers: http.IncomingHttpHeaders): Promise<HttpReply>;
  listShards(stream: string): Promise<Shard[]>;
  close(): void;
}

/** Forwards every call to an HTTP Kinesis endpoint (kinesis-local). */
export class HttpBackend implements Backend {
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
export class NullBackend implements Backend {
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
