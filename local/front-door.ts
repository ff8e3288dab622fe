/**
 * The local lake's front door: the one address every client uses (a port kept per lake folder across
 * restarts), in front of kinesis-local. It passes every request and answer through unchanged except where
 * the emulator alone would differ from Amazon Kinesis Data Streams for the clients people use:
 *
 * - Durable acknowledgements: a PutRecord or PutRecords answer reaches the client only after the records
 *   the emulator accepted are in the write-ahead log (fsynced), and, for a shard no snapshot holds yet,
 *   after a snapshot holds the shard: kill -9 at any moment loses no acknowledged write.
 * - SubscribeToShard answers start with an `initial-response` event, as AWS's do; botocore and the Java
 *   SDK refuse an event stream that does not (kinesis-local starts with the first SubscribeToShardEvent).
 * - Shard ids in the forms the live service accepts (`0`, `shardId-0`, `shardId-000000000000`), as
 *   kinesalite, written against the live service, resolves them.
 * - Retention: once records older than a stream's retention may exist, TRIM_HORIZON starts at the
 *   retention boundary (the records are dropped from the state at the next start: `local/kinesis-state.ts`).
 */
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { cbor } from "@smithy/core/cbor";
import * as http from "http";
import * as net from "net";
import { LoggedRecord, WriteAheadLog } from "./write-ahead-log";

export interface FrontDoorOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** The emulator's own endpoint (`http://127.0.0.1:<port>`). */
  upstream: string;
  /** Where accepted records go before they are acknowledged. @default none: acknowledgements are not durable */
  wal?: WriteAheadLog;
  /** `<stream arn> <shard id>` of shards a snapshot already holds. @default none known */
  durableShards?: Set<string>;
  /** Resolves once a snapshot holds everything the emulator accepted before the call. @default none */
  snapshot?: () => Promise<void>;
  /** Retention of each stream (by name) in hours, and the oldest record's arrival (ms) at start. @default 24 h, none */
  streams?: Map<string, { retentionHours: number; oldestMs?: number }>;
  /** Receives one line when something goes wrong. @default stderr */
  warn?: (line: string) => void;
}

export interface FrontDoor {
  readonly port: number;
  readonly endpoint: string;
  close(): Promise<void>;
}

/** What kinesis-local assumes when a request names no account. */
const ACCOUNT = "000000000000";
/** The region kinesis-local uses for a request whose signature names none it knows. */
const DEFAULT_REGION = "us-east-1";
/**
 * Largest request body passed on: above PUT_RECORDS_MAX_BYTES (model/limits.ts) of payload once base64 in
 * JSON, with room for the newer 10 MiB reading; the emulator itself refuses what AWS refuses.
 */
const MAX_BODY = 32 * 1024 * 1024;

const utf8 = (b: Uint8Array) => Buffer.from(b).toString("utf8");
const fromUtf8 = (s: string) => Buffer.from(s, "utf8");
const codec = new EventStreamCodec(utf8, fromUtf8);

/** Reads a whole body, up to `limit` bytes. */
function readBody(stream: http.IncomingMessage, limit = MAX_BODY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error(`request body over ${limit} bytes`));
        stream.destroy();
        return;
      }
      chunks.push(c);
    });
    stream.on("end", () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

/** The region a SigV4 request is signed for (`Credential=<key>/<date>/<region>/kinesis/aws4_request`). */
function signedRegion(headers: http.IncomingHttpHeaders): string {
  const m = /Credential=[^/,\s]+\/\d{8}\/([a-z0-9-]+)\//.exec(String(headers.authorization ?? ""));
  return m?.[1] ?? DEFAULT_REGION;
}

/** `0`, `shardId-0`, `shardId-000000000000` (anything whose part after the first `-` is a number) as AWS resolves it. */
export function canonicalShardId(shardId: unknown): unknown {
  if (typeof shardId !== "string") return shardId;
  const tail = shardId.split("-")[1] ?? shardId;
  if (!/^\d+$/.test(tail)) return shardId;
  const index = Number(tail);
  if (!(index >= 0 && index <= 2147483647)) return shardId;
  return `shardId-${String(index).padStart(12, "0")}`;
}

type Body = Record<string, unknown>;

function decode(body: Buffer, isCbor: boolean): Body | undefined {
  try {
    const value = isCbor ? cbor.deserialize(body) : JSON.parse(body.toString("utf8"));
    return value && typeof value === "object" ? (value as Body) : undefined;
  } catch {
    return undefined; // the emulator answers malformed requests as AWS does
  }
}

function encode(value: Body, isCbor: boolean): Buffer {
  return isCbor ? Buffer.from(cbor.serialize(value)) : Buffer.from(JSON.stringify(value), "utf8");
}

function streamNameOf(body: Body): string | undefined {
  if (typeof body.StreamName === "string") return body.StreamName;
  if (typeof body.StreamARN === "string") return body.StreamARN.slice(body.StreamARN.lastIndexOf("/") + 1);
  if (typeof body.ConsumerARN === "string") return /:stream\/([^/]+)\//.exec(body.ConsumerARN)?.[1];
  return undefined;
}

/** The bytes of the `initial-response` event AWS sends first on a SubscribeToShard stream. */
function initialResponse(isCbor: boolean): Buffer {
  return Buffer.from(
    codec.encode({
      headers: {
        ":event-type": { type: "string", value: "initial-response" },
        ":message-type": { type: "string", value: "event" },
        ":content-type": { type: "string", value: isCbor ? "application/cbor" : "application/json" },
      },
      body: isCbor ? Buffer.from(cbor.serialize({})) : fromUtf8("{}"),
    }),
  );
}

function dataBase64(data: unknown): string {
  if (typeof data === "string") return data; // JSON protocol: already base64
  if (data instanceof Uint8Array) return Buffer.from(data).toString("base64");
  return "";
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade"]);

function passHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
  return out;
}

export async function startFrontDoor(options: FrontDoorOptions): Promise<FrontDoor> {
  const upstream = new URL(options.upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const durable = options.durableShards ?? new Set<string>();
  const streams = options.streams ?? new Map();
  const startedAt = Date.now();
  let walBroken: string | undefined;

  /** The start of the readable part of a stream's shards, when records past retention may exist; else undefined. */
  const retentionBoundary = (name: string | undefined): number | undefined => {
    if (!name) return undefined;
    const info = streams.get(name);
    const boundary = Date.now() - (info?.retentionHours ?? 24) * 3600_000;
    const oldestPossible = Math.min(info?.oldestMs ?? Infinity, startedAt);
    return boundary > oldestPossible ? boundary : undefined;
  };

  /** Rewrites what the emulator would read differently from AWS; returns undefined when nothing changes. */
  const rewriteRequest = (op: string, body: Body): Body | undefined => {
    let changed = false;
    if (op === "GetShardIterator" || op === "SubscribeToShard") {
      const id = canonicalShardId(body.ShardId);
      if (id !== body.ShardId) {
        body.ShardId = id;
        changed = true;
      }
      const boundary = retentionBoundary(streamNameOf(body));
      const position = op === "GetShardIterator" ? body : (body.StartingPosition as Body | undefined);
      const type = op === "GetShardIterator" ? "ShardIteratorType" : "Type";
      if (boundary !== undefined && position?.[type] === "TRIM_HORIZON") {
        position[type] = "AT_TIMESTAMP";
        position.Timestamp = boundary / 1000;
        changed = true;
      }
    }
    return changed ? body : undefined;
  };

  const learn = (op: string, body: Body | undefined) => {
    const name = body && streamNameOf(body);
    if (!name) return;
    if (op === "IncreaseStreamRetentionPeriod" || op === "DecreaseStreamRetentionPeriod" || op === "CreateStream") {
      const hours = op === "CreateStream" ? 24 : Number(body.RetentionPeriodHours);
      if (Number.isFinite(hours)) streams.set(name, { ...streams.get(name), retentionHours: hours });
    }
  };

  /** Makes the records of an accepted PutRecord(s) durable before the answer goes out. */
  const makeDurable = async (op: string, request: Body, response: Body, region: string): Promise<void> => {
    const name = streamNameOf(request);
    const arn = typeof request.StreamARN === "string" ? request.StreamARN : `arn:aws:kinesis:${region}:${ACCOUNT}:stream/${name}`;
    const now = Date.now();
    const logged: LoggedRecord[] = [];
    if (op === "PutRecord") {
      if (typeof response.SequenceNumber === "string" && typeof response.ShardId === "string") {
        logged.push({ stream: arn, shardId: response.ShardId, sequenceNumber: response.SequenceNumber, partitionKey: String(request.PartitionKey), data: dataBase64(request.Data), arrivalMs: now });
      }
    } else {
      const entries = (request.Records as Body[] | undefined) ?? [];
      const results = (response.Records as Body[] | undefined) ?? [];
      results.forEach((r, i) => {
        if (typeof r?.SequenceNumber !== "string" || typeof r.ShardId !== "string" || !entries[i]) return;
        logged.push({ stream: arn, shardId: r.ShardId, sequenceNumber: r.SequenceNumber, partitionKey: String(entries[i].PartitionKey), data: dataBase64(entries[i].Data), arrivalMs: now });
      });
    }
    if (logged.length === 0) return;
    const waits: Promise<void>[] = [];
    if (options.wal) waits.push(options.wal.append(logged));
    const fresh = logged.filter((r) => !durable.has(`${r.stream} ${r.shardId}`));
    if (fresh.length > 0 && options.snapshot) {
      // A shard no snapshot holds yet (a new stream, a child of a reshard): the log alone cannot put its
      // records back, so wait for a snapshot that holds the shard.
      waits.push(options.snapshot().then(() => fresh.forEach((r) => durable.add(`${r.stream} ${r.shardId}`))));
    }
    await Promise.all(waits);
  };

  const forward = (req: http.IncomingMessage, body: Buffer): Promise<http.IncomingMessage> =>
    new Promise((resolve, reject) => {
      const headers = passHeaders(req.headers);
      headers.host = upstream.host;
      headers["content-length"] = body.length;
      const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, resolve);
      up.on("error", reject);
      up.end(body);
    });

  const failure = (res: http.ServerResponse, status: number, type: string, message: string): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify({ __type: type, message });
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "content-length": Buffer.byteLength(body) });
    res.end(body);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    let body = await readBody(req);
    const op = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
    const isCbor = /cbor/i.test(String(req.headers["content-type"] ?? ""));
    const parsed = op ? decode(body, isCbor) : undefined;
    const rewritten = parsed && rewriteRequest(op, parsed);
    if (rewritten) body = encode(rewritten, isCbor);
    const up = await forward(req, body);

    if (op === "SubscribeToShard" && up.statusCode === 200) {
      res.writeHead(200, passHeaders(up.headers));
      res.write(initialResponse(isCbor));
      up.pipe(res);
      res.on("close", () => up.destroy());
      return;
    }
    const answer = await readBody(up);
    if ((op === "PutRecords" || op === "PutRecord") && up.statusCode === 200 && parsed) {
      const out = decode(answer, isCbor);
      if (out) {
        try {
          await makeDurable(op, parsed, out, signedRegion(req.headers));
          walBroken = undefined;
        } catch (err) {
          // Not durable, so not acknowledged: the client retries (the records may then be there twice, as
          // after any failed call on AWS).
          const reason = (err as Error).message;
          if (walBroken !== reason) warn(`local lake: could not make accepted records durable (${reason}); answering InternalFailure until it can`);
          walBroken = reason;
          failure(res, 500, "InternalFailure", `local lake: the write could not be made durable: ${reason}`);
          return;
        }
      }
    } else if (up.statusCode === 200) {
      learn(op, parsed);
    }
    const headers = passHeaders(up.headers);
    headers["content-length"] = answer.length;
    res.writeHead(up.statusCode ?? 500, headers);
    res.end(answer);
  };

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((err: Error) => {
      const refused = (err as NodeJS.ErrnoException).code === "ECONNREFUSED" || (err as NodeJS.ErrnoException).code === "ECONNRESET";
      failure(res, refused ? 503 : 500, refused ? "ServiceUnavailable" : "InternalFailure", `local lake: ${err.message}`);
    });
  });
  server.keepAliveTimeout = 60_000;
  const sockets = new Set<net.Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        agent.destroy();
      })),
  };
}
