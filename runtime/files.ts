/**
 * Replacing a file so that a kill or power loss at any moment leaves the old content or the new one,
 * never a torn file: write a temporary file beside it, fsync it, rename it over the file, fsync the
 * folder (so the rename itself is durable). The one copy every checkpoint, catalog and snapshot writer uses.
 */
import * as fs from "fs";
import * as path from "path";

/** Makes a file's creation, rename or removal in `dir` durable. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on a directory; the data itself is synced
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Writes `body` to `file` and fsyncs it (no rename: for a temporary file the caller renames). */
export function writeFileDurably(file: string, body: string | Buffer): void {
  const fd = fs.openSync(file, "w");
  try {
    fs.writeFileSync(fd, body);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Replaces `file` with `body` atomically and durably. `tmp` names the temporary file (a reader that
 * cleans up after a crash may look for its name). @default `<file>.tmp-<pid>`
 */
export function writeFileAtomic(file: string, body: string | Buffer, tmp = `${file}.tmp-${process.pid}`): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileDurably(tmp, body);
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}
