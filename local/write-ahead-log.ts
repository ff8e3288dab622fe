/**
 * The write-ahead log of the local lake's streams: every record the emulator accepted is appended here and
 * fsynced before the client hears that it was accepted, so an acknowledged write survives kill -9 of the
 * lake at any moment, as on AWS. kinesis-local only keeps snapshots of its whole state (written at most
 * about once a second); at the next start the records a snapshot lacks are put back into it from this log,
 * under their original sequence numbers (`local/kinesis-state.ts`).
 *
 * Layout: `<dir>/wal-<n>.ndjson`, one JSON object per line (`LoggedRecord`). Appends are group-committed:
 * every append waiting while one write and fdatasync run goes into the next one, so concurrent clients share
 * an fsync. A file is closed (`rotate`) and deleted (`dropThrough`) once a snapshot holds all it holds.
 * A line that does not parse is a write a kill interrupted: its fsync never returned, so it was never
 * acknowledged, and reading skips it.
 */
import { fsyncDir } from "../runtime/files";
import * as fs from "fs";
import * as path from "path";

/** One acknowledged record, as the log keeps it. */
export interface LoggedRecord {
  /** The stream's ARN (`arn:aws:kinesis:<region>:<account>:stream/<name>`). */
  stream: string;
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  /** The record's data, base64. */
  data: string;
  /** When the front door saw the emulator accept it (ms since the epoch). */
  arrivalMs: number;
}

const FILE_PATTERN = /^wal-(\d+)\.ndjson$/;

function fileName(index: number): string {
  return `wal-${String(index).padStart(9, "0")}.ndjson`;
}

/** The log files in `dir`, oldest first. */
export function logFiles(dir: string): { index: number; file: string }[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .map((name) => ({ m: FILE_PATTERN.exec(name), name }))
    .filter((e) => e.m)
    .map((e) => ({ index: Number(e.m![1]), file: path.join(dir, e.name) }))
    .sort((a, b) => a.index - b.index);
}

/** Every complete record of the log files given, in the order written; torn lines are counted, not returned. */
export function readLog(files: string[]): { records: LoggedRecord[]; torn: number } {
  const records: LoggedRecord[] = [];
  let torn = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as LoggedRecord;
        if (typeof r.sequenceNumber === "string" && typeof r.shardId === "string" && typeof r.stream === "string") records.push(r);
        else torn += 1;
      } catch {
        torn += 1;
      }
    }
  }
  return { records, torn };
}

interface Pending {
  bytes: Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class WriteAheadLog {
  private fd: number | undefined;
  private index = 0;
  private written = 0;
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;

  /** Opens a new log file after the ones already in `dir` (they stay until a snapshot covers them). */
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    const existing = logFiles(dir);
    this.index = existing.length ? existing[existing.length - 1].index : 0;
    this.openNext();
  }

  private openNext(): void {
    this.index += 1;
    this.fd = fs.openSync(path.join(this.dir, fileName(this.index)), "a");
    this.written = 0;
    fsyncDir(this.dir);
  }

  /** Resolves once `records` are on disk (fdatasync returned). */
  append(records: LoggedRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the write-ahead log is closed"));
    if (records.length === 0) return Promise.resolve();
    const bytes = Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(""), "utf8");
    return new Promise((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          const body = batch.length === 1 ? batch[0].bytes : Buffer.concat(batch.map((p) => p.bytes));
          await writeAll(this.fd!, body);
          await new Promise<void>((resolve, reject) => fs.fdatasync(this.fd!, (err) => (err ? reject(err) : resolve())));
          this.written += body.length;
          for (const p of batch) p.resolve();
        } catch (err) {
          // A write that failed part-way leaves a torn line: later lines must not follow it in the same file.
          this.closeFile();
          this.openNext();
          for (const p of batch) p.reject(err as Error);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  /**
   * Closes the current file and starts the next; returns the closed file's index, or undefined when it
   * held nothing (then nothing is rotated). Every record in a closed file was accepted by the emulator before
   * the file closed, so a snapshot begun after this call holds all of them.
   */
  async rotate(): Promise<number | undefined> {
    await this.writing;
    if (this.written === 0 || this.closed) return undefined;
    const closed = this.index;
    this.closeFile();
    this.openNext();
    return closed;
  }

  /** Deletes the files up to and including `index` (a snapshot holds their records). */
  dropThrough(index: number): void {
    for (const { index: i, file } of logFiles(this.dir)) {
      if (i <= index && (this.closed || i !== this.index)) fs.rmSync(file, { force: true });
    }
  }

  /** Bytes in the current file. */
  get size(): number {
    return this.written;
  }

  async close(): Promise<void> {
    await this.writing;
    this.closed = true;
    this.closeFile();
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = undefined;
  }
}

function writeAll(fd: number, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (offset: number) =>
      fs.write(fd, body, offset, body.length - offset, null, (err, n) => {
        if (err) return reject(err);
        if (offset + n < body.length) return step(offset + n);
        resolve();
      });
    step(0);
  });
}

export { fsyncDir } from "../runtime/files";
