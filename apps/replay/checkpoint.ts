/**
 * The replay checkpoint: which replay it belongs to, the position (object key, records of it done)
 * up to which every record is confirmed delivered, and the corrupt objects it skipped. Saved atomically (temporary file, fsync, rename) after
 * every delivered batch, so a replay killed at any moment resumes after the last confirmed batch and
 * re-sends at most the batch that was in flight.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { writeFileAtomic } from "../../runtime/files";
import { UserError } from "../../runtime/errors";

/** What makes two replays the same replay: a checkpoint only resumes the replay it was written for. */
export interface ReplayIdentity {
  segment: string;
  into: string;
  from: string;
  to: string;
  filter: string | null;
  keyField: string | null;
}

export interface ReplayPosition {
  /** The object the last confirmed record came from. */
  key: string;
  /** Records of that object handled (delivered or filtered out), counting from its first line. */
  index: number;
}

export interface ReplayCheckpoint {
  version: 1;
  replay: ReplayIdentity;
  /** Undefined before the first confirmed batch. */
  position?: ReplayPosition;
  /** Records confirmed delivered so far, over every run of this replay. */
  published: number;
  /**
   * Keys of objects that were corrupt (or truncated) when the replay passed them: none of their records
   * was sent. Every later run of this replay tries them again and fails until each is replayed (restored
   * from a previous version, say) or `--restart` starts over. @default none
   */
  skipped?: string[];
  /** The position within a skipped object being replayed now, up to which its records are delivered. */
  retrying?: ReplayPosition;
  /** Set when the whole window was read (objects in `skipped` excepted) and the window has passed. */
  completedAt?: string;
}

/** Default file for a replay: `<dir>/<segment>-to-<into>-<hash of the identity>.json`. */
export function defaultCheckpointFile(dir: string, id: ReplayIdentity): string {
  const hash = createHash("sha256").update(JSON.stringify(id)).digest("hex").slice(0, 12);
  const slug = (s: string) => s.replace(/[^a-z0-9-]/gi, "_");
  return path.join(dir, `${slug(id.segment)}-to-${slug(id.into)}-${hash}.json`);
}

function sameIdentity(a: ReplayIdentity, b: ReplayIdentity): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The checkpoint in `file` for this replay; a fresh one when the file does not exist. */
export function loadCheckpoint(file: string, id: ReplayIdentity): ReplayCheckpoint {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, replay: id, published: 0 };
    throw new UserError(`cannot read the replay checkpoint ${file} (${(err as NodeJS.ErrnoException).code}); fix its permissions or pass another --checkpoint`);
  }
  let value: ReplayCheckpoint;
  try {
    value = JSON.parse(text) as ReplayCheckpoint;
  } catch {
    throw new UserError(`the replay checkpoint ${file} is not JSON; delete it to replay the window from the start`);
  }
  if (value?.version !== 1 || !value.replay) {
    throw new UserError(`${file} is not a replay checkpoint; pass another --checkpoint`);
  }
  if (!sameIdentity(value.replay, id)) {
    throw new UserError(
      `the replay checkpoint ${file} belongs to another replay (${value.replay.segment} -> ${value.replay.into}, ${value.replay.from} .. ${value.replay.to}); pass another --checkpoint, or --restart to overwrite it`,
    );
  }
  return value;
}

/** Writes the checkpoint so that a crash leaves either the old or the new one, never a torn file. */
export function saveCheckpoint(file: string, checkpoint: ReplayCheckpoint): void {
  writeFileAtomic(file, `${JSON.stringify(checkpoint, null, 2)}\n`);
}
