/**
 * Where a subscriber remembers, per shard, the last record it wrote, so a restart resumes after it.
 *
 * File format: `{"version":1,"stream":"name","shards":{"shardId-000000000000":{"sequenceNumber":"..."}}}`;
 * a shard read to its end carries `"ended": true` and is skipped on restart. A shard whose reader started
 * but of which no record was written yet carries only its start, `{"start":"trim-horizon"}` or
 * `{"start":{"atTimestamp":"2024-05-01T12:00:00.000Z"}}`, and a restart reads it from there. Files written
 * before `start` existed (no such field) load unchanged.
 */
import * as fs from "fs";
import * as path from "path";
import { UserError } from "../lib/errors";

/** Where a shard's reading began (`latest` is saved as the time the run began). */
export type SavedStart = "trim-horizon" | { atTimestamp: string };

export interface ShardCheckpoint {
  /** Sequence number of the last record written; reading resumes AFTER it. */
  sequenceNumber?: string;
  /** Where reading began, while no record was written (no sequenceNumber): a restart reads from there. */
  start?: SavedStart;
  /** The shard was read to its end (it is closed); nothing left to read. */
  ended?: true;
}

export type ShardCheckpoints = Record<string, ShardCheckpoint>;

export interface CheckpointFile {
  version: 1;
  stream: string;
  shards: ShardCheckpoints;
}

export interface CheckpointStore {
  /** The saved positions for `stream`, empty when nothing was saved; fails if they belong to another stream. */
  load(stream: string): Promise<ShardCheckpoints>;
  /** Replaces the saved positions (atomically: a reader sees the old or the new state, never a mix). */
  save(stream: string, shards: ShardCheckpoints): Promise<void>;
  /** Where the positions live, for messages. */
  readonly description: string;
}

/** A checkpoint in a JSON file, replaced by write-to-temp + fsync + rename. */
export class FileCheckpointStore implements CheckpointStore {
  readonly description: string;

  constructor(private readonly file: string) {
    this.description = `checkpoint ${file}`;
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
    return data.shards;
  }

  async save(stream: string, shards: ShardCheckpoints): Promise<void> {
    const data: CheckpointFile = { version: 1, stream, shards };
    const temp = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
    const handle = await fs.promises.open(temp, "w");
    try {
      await handle.writeFile(`${JSON.stringify(data, null, 2)}\n`, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, this.file);
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
