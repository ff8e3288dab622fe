/**
 * The local lake's stand-in for a segment's Firehose: buffers records and writes them to a local folder
 * (the segment's "bucket") in the object layout Firehose uses in S3, honouring the segment's buffering
 * hints and compression.
 */
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { SegmentConfig } from "../model/config";
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
  private readonly timer: NodeJS.Timeout;
  /** Compression actually written: Node has gzip built in; ZIP and Snappy are written uncompressed locally. */
  readonly compression: string;

  constructor(
    private readonly segment: SegmentConfig,
    private readonly deliveryStreamName: string,
    private readonly bucketDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.compression = segment.wireTap.compression === "GZIP" ? "GZIP" : "UNCOMPRESSED";
    const intervalMs = Math.max(segment.wireTap.bufferSeconds, 1) * 1000;
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Buffers one record followed by the delimiter, as Firehose's `AppendDelimiterToRecord` does (always appended). */
  add(data: Uint8Array): void {
    this.buffer.push(Buffer.from(data), DELIMITER);
    this.buffered += data.byteLength + DELIMITER.byteLength;
    this.stats.records += 1;
    this.stats.bytes += data.byteLength;
    if (this.buffered >= this.segment.wireTap.bufferMiB * 1024 * 1024) this.flush();
  }

  /** Writes the buffered records as one object; nothing when the buffer is empty. */
  flush(): void {
    if (this.buffer.length === 0) return;
    const body = Buffer.concat(this.buffer);
    this.buffer = [];
    this.buffered = 0;
    const key = wireTapObjectKey(this.deliveryStreamName, this.compression, this.now(), randomUUID());
    const file = path.join(this.bucketDir, ...key.split("/"));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.partial`;
    fs.writeFileSync(tmp, this.compression === "GZIP" ? zlib.gzipSync(body) : body);
    fs.renameSync(tmp, file);
    this.stats.objects.push(file);
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
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
