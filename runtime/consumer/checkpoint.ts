/**
 * Where a subscriber remembers, per shard, the last record it wrote, so a restart resumes after it.
 *
 * File format: `{"version":1,"stream":"name","shards":{"shardId-000000000000":{"sequenceNumber":"..."}}}`;
 * a shard read to its end carries `"ended": true` and is skipped on restart. A shard whose reader started
 * but of which no record was written yet carries only its start, `{"start":"trim-horizon"}` or
 * `{"start":{"atTimestamp":"2024-05-01T12:00:00.000Z"}}`, and a restart reads it from there. Files written
 * before `start` existed (no such field) load unchanged. A consumer that keeps state per shard (the local
 * processor's tumbling window) saves it as the shard's `"state"` (any JSON value), in the same file write
 * as the position it belongs to; the engine itself ignores it.
 *
 * The file is bound to one stream's identity (`streamArn` and `streamCreatedAt` from DescribeStreamSummary):
 * a stream deleted and created again under the same name has new shards and sequence numbers, and a
 * checkpoint of the old one would skip it. Files without the identity (older ones) get it at the next save.
 * While a subscriber uses the file it holds a lock (`FILE.lock`, proper-lockfile), so a second subscriber
 * on the same file is refused instead of racing it.
 */
import * as fs from "fs";
import * as path from "path";
import * as lockfile from "proper-lockfile";
import { UserError } from "../errors";
import type { StreamIdentity } from "../streams";

/** Where a shard's reading began (`latest` is saved as the time the run began). */
export type SavedStart = "trim-horizon" | { atTimestamp: string };

export interface ShardCheckpoint {
  /** Sequence number of the last record written; reading resumes AFTER it. */
  sequenceNumber?: string;
  /** Where reading began, while no record was written (no sequenceNumber): a restart reads from there. */
  start?: SavedStart;
  /** The shard was read to its end (it is closed); nothing left to read. */
  ended?: true;
  /**
   * The consumer's own state of the shard as of this position (a JSON value), saved atomically with it: a
   * restart resumes the position and the state together. The engine never reads it. @default none
   */
  state?: unknown;
}

export type ShardCheckpoints = Record<string, ShardCheckpoint>;

export interface CheckpointFile {
  version: 1;
  stream: string;
  /** The stream's ARN (absent in files written before identities were saved). */
  streamArn?: string;
  /** The stream's creation time, ISO-8601 (absent in older files). */
  streamCreatedAt?: string;
  shards: ShardCheckpoints;
}


export interface CheckpointStore {
  /** The saved positions for `stream`, empty when nothing was saved; fails if they belong to another stream. */
  load(stream: string): Promise<ShardCheckpoints>;
  /** Replaces the saved positions, each shard's `state` with it (atomically: a reader sees the old or the new file, never a mix). */
  save(stream: string, shards: ShardCheckpoints): Promise<void>;
  /** Where the positions live, for messages. */
  readonly description: string;
}

/** How long a lock of a subscriber that died (kill -9) blocks the file: proper-lockfile's stale time. */
export const LOCK_STALE_MS = 10_000;

/**
 * A checkpoint in a JSON file, replaced by write-to-temp + fsync + rename, locked while in use.
 * Call `open()` first and `close()` at the end.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly description: string;
  private release?: () => Promise<void>;
  private compromised?: Error;

  /** @param identity the stream the file must belong to; checked on load, written on save. @default unchecked */
  constructor(
    private readonly file: string,
    private readonly identity?: StreamIdentity,
  ) {
    this.description = `checkpoint ${file}`;
  }

  /**
   * Refuses a file that cannot be replaced (read-only file, or a directory we cannot write the temp file
   * to) and takes the lock; a second subscriber on the same file is refused in one line.
   * @param onLost called if the lock is lost while running (another process took it over)
   */
  async open(onLost: (err: Error) => void = () => undefined): Promise<void> {
    const dir = path.dirname(path.resolve(this.file));
    try {
      await fs.promises.access(dir, fs.constants.W_OK);
    } catch {
      throw new UserError(`--checkpoint ${this.file}: cannot write to its directory ${dir}; choose a file in a writable directory`);
    }
    const stat = await fs.promises.stat(this.file).catch(() => undefined);
    if (stat?.isDirectory()) throw new UserError(`--checkpoint ${this.file} is a directory; give a file name`);
    if (stat && !(await isWritable(this.file, stat))) {
      throw new UserError(
        `--checkpoint ${this.file} is read-only; it is not replaced: make it writable (chmod u+w ${this.file}) or choose another file`,
      );
    }
    try {
      this.release = await lockfile.lock(this.file, {
        realpath: false,
        stale: LOCK_STALE_MS,
        retries: 0,
        onCompromised: (err) => {
          this.compromised = err;
          onLost(new Error(`--checkpoint ${this.file}: lost its lock (${err.message}); stopping so two subscribers do not share it`));
        },
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ELOCKED") {
        throw new UserError(
          `--checkpoint ${this.file} is in use by another subscriber (lock ${this.file}.lock); stop it or use another checkpoint file ` +
            `(a lock left by a killed subscriber expires after ${LOCK_STALE_MS / 1000} s)`,
        );
      }
      throw new UserError(`--checkpoint ${this.file}: cannot lock it (${(err as Error).message})`);
    }
  }

  /** Releases the lock. */
  async close(): Promise<void> {
    const release = this.release;
    this.release = undefined;
    if (release && !this.compromised) await release().catch(() => undefined);
  }

  async load(stream: string): Promise<ShardCheckpoints> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw new UserError(`--checkpoint ${this.file}: cannot read it (${(err as Error).message})`);
    }
    const data = parseCheckpoint(text);
    if (!data) {
      throw new UserError(`--checkpoint ${this.file} is not a subscriber checkpoint (expected {"version":1,"stream":...,"shards":{...}})`);
    }
    if (data.stream !== stream) {
      throw new UserError(
        `--checkpoint ${this.file} belongs to stream "${data.stream}", not "${stream}"; use another checkpoint file for this stream`,
      );
    }
    const id = this.identity;
    if (id && data.streamArn !== undefined && data.streamCreatedAt !== undefined) {
      const sameCreation = Date.parse(data.streamCreatedAt) === id.createdAt.getTime();
      if (data.streamArn !== id.streamArn || !sameCreation) {
        throw new UserError(
          `--checkpoint ${this.file} belongs to an earlier stream "${stream}" (created ${data.streamCreatedAt}); the stream of that ` +
            `name now was created ${id.createdAt.toISOString()}, so its positions mean nothing here: move the file away (or choose ` +
            `another) to read this stream from --from`,
        );
      }
    }
    // A start is the moment a subscriber began reading: one after now was not written on this clock (an
    // edited file, or a clock set back), and Kinesis would be asked for records from the future.
    const now = Date.now();
    for (const [shardId, entry] of Object.entries(data.shards)) {
      if (entry.start && entry.start !== "trim-horizon" && Date.parse(entry.start.atTimestamp) > now) {
        throw new UserError(
          `--checkpoint ${this.file}: shard ${shardId} starts at ${entry.start.atTimestamp}, which is in the future (it is ` +
            `${new Date(now).toISOString()} now); correct that time or delete the shard's entry (it is then read from --from), or move the file away`,
        );
      }
    }
    return data.shards;
  }

  async save(stream: string, shards: ShardCheckpoints): Promise<void> {
    if (this.compromised) throw new Error(`--checkpoint ${this.file}: lock lost; not saving`);
    const data: CheckpointFile = this.identity
      ? { version: 1, stream, streamArn: this.identity.streamArn, streamCreatedAt: this.identity.createdAt.toISOString(), shards }
      : { version: 1, stream, shards };
    // A rename replaces the file whatever its mode: a file made read-only while the subscriber runs is
    // refused as it is at the start, not silently replaced.
    const stat = await fs.promises.stat(this.file).catch(() => undefined);
    if (stat && !stat.isDirectory() && !(await isWritable(this.file, stat))) {
      throw new CheckpointSaveError(
        `--checkpoint ${this.file} was made read-only while the subscriber ran; it is not replaced, and keeps the last position saved ` +
          `before: make it writable (chmod u+w ${this.file}) and start again, or choose another file`,
      );
    }
    const temp = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
    try {
      const handle = await fs.promises.open(temp, "w");
      try {
        await handle.writeFile(`${JSON.stringify(data, null, 2)}\n`, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.promises.rename(temp, this.file);
    } catch (err) {
      // Never leave a half-written temp file behind; the previous checkpoint stays as it was.
      await fs.promises.unlink(temp).catch(() => undefined);
      const e = err as NodeJS.ErrnoException;
      throw new CheckpointSaveError(`cannot save --checkpoint ${this.file} (${e.code ?? e.message}); it still holds the last position saved before`);
    }
  }
}

/** The file may be replaced: we may write it, and (root may write anything) its own mode does not say read-only. */
async function isWritable(file: string, stat: fs.Stats): Promise<boolean> {
  if ((stat.mode & 0o222) === 0) return false;
  return fs.promises.access(file, fs.constants.W_OK).then(
    () => true,
    () => false,
  );
}

/** A checkpoint could not be written; the file keeps its previous content. */
export class CheckpointSaveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointSaveError";
  }
}

/** The checkpoint in `text`, or undefined when it is not one. */
export function parseCheckpoint(text: string): CheckpointFile | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(data) || data.version !== 1 || typeof data.stream !== "string" || !isObject(data.shards)) return undefined;
  if (data.streamArn !== undefined && typeof data.streamArn !== "string") return undefined;
  if (data.streamCreatedAt !== undefined && (typeof data.streamCreatedAt !== "string" || Number.isNaN(Date.parse(data.streamCreatedAt)))) return undefined;
  for (const entry of Object.values(data.shards)) {
    if (!isObject(entry)) return undefined;
    if (entry.sequenceNumber !== undefined && typeof entry.sequenceNumber !== "string") return undefined;
    if (entry.ended !== undefined && entry.ended !== true) return undefined;
    if (entry.start !== undefined && !isSavedStart(entry.start)) return undefined;
  }
  return data as unknown as CheckpointFile;
}

function isSavedStart(value: unknown): value is SavedStart {
  if (value === "trim-horizon") return true;
  return isObject(value) && typeof value.atTimestamp === "string" && !Number.isNaN(Date.parse(value.atTimestamp));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
