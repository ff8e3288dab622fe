/**
 * The local lake's stand-in for a segment's Firehose (Amazon Data Firehose reading a Kinesis stream into
 * S3): `LocalFirehose` reads the segment's stream from where it last delivered, and `LocalWireTap` buffers
 * records and writes them to a local folder (the segment's "bucket") in the object layout Firehose uses in
 * S3: `<prefix><delivery stream>-1-<yyyy-MM-dd-HH-mm-ss>-<uuid>[.gz]`, the time being the approximate
 * arrival time (UTC) of the oldest record in the object, as Firehose evaluates `!{timestamp:…}`; one object
 * per buffer, written when the buffer reaches its size hint or its interval has passed since its first
 * record, whichever comes first. Records are concatenated as they are, plus the delimiter processor's
 * new line (Firehose adds nothing between records by default; the wire-tap enables
 * `AppendDelimiterToRecord` on AWS and here alike).
 *
 * Delivery is at least once, as on AWS: the reading position is committed only after an object holding
 * those records is on disk (fsynced, then renamed into place), so a crash re-delivers the records of the
 * buffer it lost into a later object, and never skips one.
 */
import { writeFileAtomic } from "../runtime/files";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { deaggregate, isAggregated } from "../model/kpl";
import { SegmentConfig } from "../model/config";
import type { CheckpointStore, ShardCheckpoints } from "../runtime/consumer/checkpoint";
import { subscribe } from "../runtime/consumer/engine";
import { wireTapObjectKey } from "../model/naming";
import { RECORD_DELIMITER } from "../model/archive";

const DELIMITER = Buffer.from(RECORD_DELIMITER, "utf8");

export interface WireTapStats {
  records: number;
  bytes: number;
  objects: string[];
}

export class LocalWireTap {
  readonly stats: WireTapStats = { records: 0, bytes: 0, objects: [] };
  private buffer: Buffer[] = [];
  private buffered = 0;
  /** Approximate arrival time of the oldest record in the buffer (names the object, as on Firehose). */
  private oldest?: Date;
  private timer?: NodeJS.Timeout;
  private readonly intervalMs: number;
  /** Compression actually written: Node has gzip built in; ZIP and Snappy are written uncompressed locally. */
  readonly compression: string;
  /** Called after each object is durably in place (the reading position may then advance). @default none */
  onObjectWritten?: () => void;

  constructor(
    private readonly segment: SegmentConfig,
    private readonly deliveryStreamName: string,
    private readonly bucketDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.compression = segment.wireTap.compression === "GZIP" ? "GZIP" : "UNCOMPRESSED";
    // Firehose allows 0 s (deliver at once); a few ms still gathers what one read returned.
    this.intervalMs = Math.max(segment.wireTap.bufferSeconds * 1000, 50);
  }

  /**
   * Buffers one record followed by the delimiter, as Firehose's `AppendDelimiterToRecord` does (always appended).
   * @param arrival the record's ApproximateArrivalTimestamp. @default now
   */
  add(data: Uint8Array, arrival?: Date): void {
    // Firehose de-aggregates KPL aggregated records read from a Kinesis stream: each user record is a record.
    if (isAggregated(data)) {
      for (const user of deaggregate({ partitionKey: "", data })) this.addRecord(user.data, arrival);
      return;
    }
    this.addRecord(data, arrival);
  }

  private addRecord(data: Uint8Array, arrival?: Date): void {
    if (this.buffer.length === 0) {
      // The interval runs from the buffer's first record; the size hint may end it sooner.
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      this.timer.unref();
    }
    const at = arrival ?? this.now();
    if (!this.oldest || at < this.oldest) this.oldest = at;
    this.buffer.push(Buffer.from(data), DELIMITER);
    this.buffered += data.byteLength + DELIMITER.byteLength;
    this.stats.records += 1;
    this.stats.bytes += data.byteLength;
    if (this.buffered >= this.segment.wireTap.bufferMiB * 1024 * 1024) this.flush();
  }

  /** Writes the buffered records as one object (fsynced, then renamed into place); nothing when the buffer is empty. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const body = Buffer.concat(this.buffer);
    const at = this.oldest ?? this.now();
    this.buffer = [];
    this.buffered = 0;
    this.oldest = undefined;
    const key = wireTapObjectKey(this.deliveryStreamName, this.compression, at, randomUUID());
    const file = path.join(this.bucketDir, ...key.split("/"));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // `.partial`: what a start finds of an object a kill interrupted, and removes.
    writeFileAtomic(file, this.compression === "GZIP" ? zlib.gzipSync(body) : body, `${file}.partial`);
    this.stats.objects.push(file);
    this.onObjectWritten?.();
  }

  close(): void {
    this.flush();
  }
}


/**
 * Where a local Firehose is in its source stream: the subscriber's positions, taken as they are offered but
 * written to `file` only by `commit()`, which the delivery stream calls after an object holding every record
 * up to them is in place.
 */
class DeliveredPositions implements CheckpointStore {
  readonly description: string;
  private offered?: ShardCheckpoints;

  constructor(
    private readonly file: string,
    private readonly streamName: string,
    private readonly streamCreatedAt: string | undefined,
    private readonly log: (line: string) => void,
  ) {
    this.description = `wire-tap position ${file}`;
  }

  async load(stream: string): Promise<ShardCheckpoints> {
    let saved: { stream?: string; streamCreatedAt?: string; shards?: ShardCheckpoints };
    try {
      saved = JSON.parse(await fs.promises.readFile(this.file, "utf8"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        this.log(`local firehose: ${this.file} is unreadable (${(err as Error).message}); delivering ${stream} again from its oldest record`);
      }
      return {};
    }
    if (saved.stream !== stream || (this.streamCreatedAt && saved.streamCreatedAt !== this.streamCreatedAt)) {
      this.log(`local firehose: ${this.file} belongs to an earlier stream ${saved.stream}; delivering ${stream} from its oldest record`);
      return {};
    }
    return saved.shards ?? {};
  }

  async save(_stream: string, shards: ShardCheckpoints): Promise<void> {
    this.offered = shards;
  }

  /** Persists the positions offered so far (all of whose records are in written objects). */
  commit(): void {
    if (!this.offered) return;
    const body = JSON.stringify({ version: 1, stream: this.streamName, streamCreatedAt: this.streamCreatedAt, shards: this.offered });
    writeFileAtomic(this.file, `${body}\n`);
  }
}

export interface LocalFirehoseOptions {
  client: KinesisClient;
  segment: SegmentConfig;
  streamName: string;
  deliveryStreamName: string;
  /** The local folder standing in for the segment's bucket. */
  bucketDir: string;
  /** Where the delivery stream keeps its reading position. */
  positionFile: string;
  /** The source stream's creation time: a position saved for an earlier stream of the same name is dropped. @default unchecked */
  streamCreatedAt?: Date;
  /** Forget the saved position and deliver from the stream's oldest record (after the streams' state was rolled back). @default false */
  restart?: boolean;
  /** Warnings, one line each. @default discard */
  log?: (line: string) => void;
  /** Called once when reading stopped on an error (the lake then stops: a wire-tap never stalls silently). @default none */
  onFailure?: (err: Error) => void;
}

function removePartialObjects(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) removePartialObjects(full);
    else if (entry.name.endsWith(".partial")) fs.rmSync(full, { force: true });
  }
}

/** A segment's Firehose: reads its stream (from where it last delivered) into its local bucket until stopped. */
export class LocalFirehose {
  readonly tap: LocalWireTap;
  private readonly positions: DeliveredPositions;
  private readonly abort = new AbortController();
  private running?: Promise<unknown>;
  private failure?: Error;

  constructor(private readonly options: LocalFirehoseOptions) {
    const log = options.log ?? (() => undefined);
    this.tap = new LocalWireTap(options.segment, options.deliveryStreamName, options.bucketDir);
    if (options.restart) fs.rmSync(options.positionFile, { force: true });
    // An object a crash interrupted was never delivered (S3 shows no half-written object, and its records
    // are read again, since the position did not advance past them): remove it.
    removePartialObjects(options.bucketDir);
    this.positions = new DeliveredPositions(options.positionFile, options.streamName, options.streamCreatedAt?.toISOString(), log);
    this.tap.onObjectWritten = () => this.positions.commit();
  }

  /** Starts reading; returns at once. */
  start(): void {
    const { client, streamName } = this.options;
    this.running = subscribe(client, streamName, {
      from: { type: "trim-horizon" },
      checkpoint: this.positions,
      signal: this.abort.signal,
      emptyReadPauseMs: 200,
      checkpointIntervalMs: 200,
      log: this.options.log,
      // The tap de-aggregates KPL aggregated records, as Firehose does before delivering them.
      write: (record) => this.tap.add(record.Data ?? new Uint8Array(), record.ApproximateArrivalTimestamp),
    }).catch((err: Error) => {
      this.failure = err;
      this.options.log?.(`local firehose ${this.options.deliveryStreamName}: stopped reading ${streamName}: ${err.message}`);
      this.options.onFailure?.(err);
    });
  }

  /** Stops reading, writes what is buffered and commits the position. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    this.tap.close();
    this.positions.commit();
  }

  /** The error that stopped reading early, if any. */
  get error(): Error | undefined {
    return this.failure;
  }
}

/** Reads back every record (line) a wire-tap wrote under a bucket folder. */
export function readWireTapRecords(bucketDir: string): string[] {
  const lines: string[] = [];
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!entry.name.endsWith(".partial")) {
        const raw = fs.readFileSync(full);
        const text = (entry.name.endsWith(".gz") ? zlib.gunzipSync(raw) : raw).toString("utf8");
        lines.push(...text.split("\n").filter((l) => l.length > 0));
      }
    }
  };
  walk(bucketDir);
  return lines;
}
