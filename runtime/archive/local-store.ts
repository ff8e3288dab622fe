/**
 * Reading a segment's archive, wherever it is: the `ArchiveStore` interface (list keys under a prefix,
 * read one object), the local lake's implementation over a folder that stands in for the bucket, and
 * decoding an object into its records (GZIP or not) with corrupt and truncated objects detected before
 * a single record of them is used.
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { ArchiveObject, RECORD_DELIMITER, splitRecords } from "../../model/archive";

/** A segment's bucket as replay sees it: the same two calls on S3 and on a local folder. */
export interface ArchiveStore {
  /** Where the archive is, for messages: `s3://bucket` or a folder. */
  readonly description: string;
  /** Every key under `prefix`, in any order. */
  list(prefix: string): AsyncIterable<string>;
  /** The object's stored bytes (still compressed). */
  read(key: string): Promise<Buffer>;
}

/** The local lake's bucket: a folder whose relative paths are the object keys. */
export class LocalArchiveStore implements ArchiveStore {
  readonly description: string;

  constructor(private readonly bucketDir: string) {
    this.description = bucketDir;
  }

  async *list(prefix: string): AsyncIterable<string> {
    // Keys under `prefix` live in the folder of its last "/" (prefixes here always end in "/").
    const dir = path.join(this.bucketDir, ...prefix.split("/").filter(Boolean));
    const walk = function* (folder: string, keyPrefix: string): Generator<string> {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(folder, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
      for (const entry of entries) {
        const key = `${keyPrefix}${entry.name}`;
        if (entry.isDirectory()) yield* walk(path.join(folder, entry.name), `${key}/`);
        else if (entry.isFile() && key.startsWith(prefix)) yield key;
      }
    };
    yield* walk(dir, prefix.endsWith("/") || prefix === "" ? prefix : `${prefix}/`);
  }

  async read(key: string): Promise<Buffer> {
    return fs.promises.readFile(path.join(this.bucketDir, ...key.split("/")));
  }
}

/** An object that cannot be read whole: it is skipped (or stops the run), never published in part. */
export class CorruptObjectError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`${key}: ${reason}`);
    this.name = "CorruptObjectError";
  }
}

/**
 * The records of one archive object, or a `CorruptObjectError`. The whole object is decoded before any
 * record is returned, so a truncated GZIP stream (or a plain object cut before its last delimiter, which
 * the wire-tap always writes) is found before anything of it is published.
 */
export function decodeObject(object: ArchiveObject, raw: Buffer): string[] {
  let body: Buffer;
  if (object.compression === "UNSUPPORTED") {
    throw new CorruptObjectError(object.key, "compressed with a format replay cannot read (ZIP or Snappy); use GZIP or UNCOMPRESSED wire-taps");
  }
  if (object.compression === "GZIP") {
    try {
      body = zlib.gunzipSync(raw);
    } catch (err) {
      throw new CorruptObjectError(object.key, `not a complete GZIP object (${(err as Error).message})`);
    }
  } else {
    body = raw;
  }
  if (body.length === 0) return [];
  if (body[body.length - 1] !== RECORD_DELIMITER.charCodeAt(0)) {
    throw new CorruptObjectError(object.key, "truncated: its last record does not end with the wire-tap's delimiter");
  }
  const text = body.toString("utf8");
  return splitRecords(text);
}
