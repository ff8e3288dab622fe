/**
 * Where an interrupted `publish --file` stopped: the first line not published, its byte offset, and a
 * hash of the bytes before it, so `--resume` goes on exactly there and refuses a file that changed.
 * Written when a run is interrupted (Ctrl-C, SIGTERM) after every record it took was delivered; removed
 * when a run publishes the rest of the file.
 */
import { createHash } from "crypto";
import { createReadStream } from "fs";
import * as fs from "fs";
import * as path from "path";
import { writeFileAtomic } from "../../runtime/files";
import { UserError } from "../../runtime/errors";

/** What makes two runs the same publish: a checkpoint only resumes the run it was written for. */
export interface PublishIdentity {
  /** The file, as an absolute path. */
  file: string;
  /** The target as given: `--stream NAME`, `KINESIS_STREAM_NAME`, or `--segment ADDRESS`. */
  target: string;
  keyField: string | null;
  raw: boolean;
}

export interface PublishCheckpoint {
  version: 1;
  publish: PublishIdentity;
  /** The first line not published, and the byte offset where it starts. */
  nextLine: number;
  offset: number;
  /** SHA-256 of the file's first `offset` bytes, hex. */
  prefixSha256: string;
  /** Records delivered by the runs so far. */
  published: number;
  interruptedAt: string;
}

/** `<dir>/<file name>-<hash of the identity>.json`. */
export function defaultPublishCheckpointFile(dir: string, id: PublishIdentity): string {
  const hash = createHash("sha256").update(JSON.stringify(id)).digest("hex").slice(0, 12);
  return path.join(dir, `${path.basename(id.file).replace(/[^a-z0-9._-]/gi, "_")}-${hash}.json`);
}

/** The checkpoint in `file` for this publish, or undefined when there is none. */
export function loadPublishCheckpoint(file: string, id: PublishIdentity): PublishCheckpoint | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new UserError(`cannot read the publish checkpoint ${file} (${(err as NodeJS.ErrnoException).code}); fix its permissions or pass another --checkpoint`);
  }
  let value: PublishCheckpoint;
  try {
    value = JSON.parse(text) as PublishCheckpoint;
  } catch {
    throw new UserError(`the publish checkpoint ${file} is not JSON; delete it, or pass --restart to publish the whole file`);
  }
  if (value?.version !== 1 || !value.publish || !Number.isSafeInteger(value.nextLine) || !Number.isSafeInteger(value.offset) || typeof value.prefixSha256 !== "string") {
    throw new UserError(`${file} is not a publish checkpoint; pass another --checkpoint`);
  }
  if (JSON.stringify(value.publish) !== JSON.stringify(id)) {
    throw new UserError(
      `the publish checkpoint ${file} belongs to another run (${value.publish.file} to ${value.publish.target}); pass another --checkpoint, or --restart to overwrite it`,
    );
  }
  return value;
}

export function savePublishCheckpoint(file: string, checkpoint: PublishCheckpoint): void {
  writeFileAtomic(file, `${JSON.stringify(checkpoint, null, 2)}\n`);
}

/** SHA-256 (hex) of the first `length` bytes of `file`; undefined when the file is shorter. */
export async function prefixHash(file: string, length: number): Promise<string | undefined> {
  const hash = createHash("sha256");
  let read = 0;
  if (length > 0) {
    for await (const chunk of createReadStream(file, { start: 0, end: length - 1 })) {
      hash.update(chunk as Buffer);
      read += (chunk as Buffer).length;
    }
  }
  return read === length ? hash.digest("hex") : undefined;
}
