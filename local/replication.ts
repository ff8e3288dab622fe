/**
 * The local lake's stand-in for S3 Replication from a segment's bucket to its replica in the backup region
 * (components/replica.ts): every object under the replicated prefix (`data/`) of the segment's folder is
 * copied into the replica's folder under the same key, byte for byte, some time after it appeared, as S3
 * replicates asynchronously after the write that created the object.
 *
 * As on AWS: deletes never reach the replica (removing a source object, or the whole folder, leaves the
 * replica as it is; delete markers are not replicated), an object is copied once (a copy removed from the
 * replica by hand is not made again while the lake runs), and a copy appears whole (written to a
 * `.partial` file, fsynced, renamed). Unlike AWS: there is no Object Lock (the folder can be deleted), and
 * after a restart every source object the replica lacks is copied, including objects written before the
 * backup was switched on (S3 replicates only objects written after the rule exists).
 */
import * as fs from "fs";
import * as path from "path";
import { REPLICATED_PREFIX } from "../model/naming";

export interface LocalReplicationOptions {
  /** The segment's folder (its "bucket"). */
  sourceDir: string;
  /** The replica's folder (its replica "bucket" in the backup region). */
  replicaDir: string;
  /** Milliseconds between looks for new objects: how late, at most, a copy starts. @default 500 */
  intervalMs?: number;
  /** Warnings, one line each. @default discard */
  log?: (line: string) => void;
}

export interface ReplicationStats {
  /** Objects copied since the start. */
  copied: number;
  /** Keys copied since the start, in order. */
  keys: string[];
}

/** Every object key under `prefix` in a bucket folder (`.partial` files are not objects yet). */
function objectKeys(bucketDir: string, prefix: string): string[] {
  const keys: string[] = [];
  const walk = (dir: string, keyPrefix: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name), `${keyPrefix}${entry.name}/`);
      else if (entry.isFile() && !entry.name.endsWith(".partial")) keys.push(`${keyPrefix}${entry.name}`);
    }
  };
  walk(path.join(bucketDir, ...prefix.split("/").filter(Boolean)), prefix);
  return keys.sort();
}

function copyDurably(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const tmp = `${to}.partial`;
  fs.copyFileSync(from, tmp);
  const fd = fs.openSync(tmp, "r+");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, to);
}

/** Replicates one segment folder into its replica folder until stopped. */
export class LocalReplication {
  readonly stats: ReplicationStats = { copied: 0, keys: [] };
  private readonly done = new Set<string>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly intervalMs: number;

  constructor(private readonly options: LocalReplicationOptions) {
    this.intervalMs = options.intervalMs ?? 500;
  }

  /** Starts looking for new objects; returns at once (the first copies follow on the next turn). */
  start(): void {
    this.schedule(0);
  }

  /** Copies every source object the replica does not have yet (what one look does); returns the keys copied. */
  replicateNow(): string[] {
    const copied: string[] = [];
    for (const key of objectKeys(this.options.sourceDir, REPLICATED_PREFIX)) {
      if (this.done.has(key)) continue;
      const target = path.join(this.options.replicaDir, ...key.split("/"));
      if (!fs.existsSync(target)) {
        try {
          copyDurably(path.join(this.options.sourceDir, ...key.split("/")), target);
        } catch (err) {
          // Deleted between the listing and the copy: S3 cannot replicate a version that is gone either.
          if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
          throw err;
        }
        copied.push(key);
        this.stats.copied += 1;
        this.stats.keys.push(key);
      }
      this.done.add(key);
    }
    return copied;
  }

  /** Stops, after one last look (what is pending is copied, as S3 finishes pending replications). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.look();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.look();
      this.schedule(this.intervalMs);
    }, ms);
    this.timer.unref();
  }

  private lastError?: string;

  private look(): void {
    try {
      this.replicateNow();
      this.lastError = undefined;
    } catch (err) {
      // Said once per distinct error, not at every look; the next look tries again.
      const message = (err as Error).message;
      if (message !== this.lastError) this.options.log?.(`local replication ${this.options.sourceDir} -> ${this.options.replicaDir}: ${message}; trying again every ${this.intervalMs} ms`);
      this.lastError = message;
    }
  }
}
