/**
 * Replaces a file so that a crash at any moment leaves either the old or the new content, never a torn
 * file: write a temporary file beside it, fsync, rename over it.
 */
import * as fs from "fs";
import * as path from "path";

export function writeFileAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
