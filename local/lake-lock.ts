/**
 * One process at a time owns a local lake's folder (a second would overwrite the first one's state). The
 * lock is a file created exclusively (`O_EXCL`) that names its holder: pid, the process's start time, what
 * it runs and where its lake answers, so a second process is told where the lake is.
 *
 * A lock is stale, and taken over, when its holder is gone: no such pid, a zombie (killed, not yet reaped:
 * in a container without an init it never is), or a pid now used by another process (a different start
 * time). Taking over is itself exclusive (a breaker file), so two processes that find the same stale lock
 * never both win.
 */
import * as fs from "fs";
import * as path from "path";
import { UserError } from "../runtime/errors";

export interface LockInfo {
  pid: number;
  /** The holder's start time (Linux: clock ticks since boot, /proc/<pid>/stat field 22). */
  startTime?: string;
  holder?: string;
  endpoint?: string;
  catalogFile?: string;
  /** Lines the holder printed for other terminals (`export ...`). */
  exports?: string[];
}

export interface Lock {
  release(): void;
  update(info: Partial<LockInfo>): void;
}

/** A process's start time, or undefined where /proc is not there (not Linux) or the process is gone. */
export function processStartTime(pid: number): string | undefined {
  const stat = procStat(pid);
  return stat?.fields[19]; // field 22 of stat(5); fields[] starts at field 3
}

/** /proc/<pid>/stat split after the command name (which may hold spaces and parentheses). */
function procStat(pid: number): { state: string; fields: string[] } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).trim().split(/\s+/);
  return { state: fields[0], fields };
}

/** True while the process that wrote `info` still runs (not a zombie, not a reused pid). */
export function holderAlive(info: LockInfo): boolean {
  if (!Number.isInteger(info.pid) || info.pid <= 0) return false;
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = procStat(info.pid);
  if (!stat) return !fs.existsSync("/proc/self/stat"); // no /proc at all: the signal check is all there is
  if (stat.state === "Z" || stat.state === "X") return false;
  return info.startTime === undefined || info.startTime === stat.fields[19];
}

export function readLock(file: string): LockInfo | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
  try {
    const info = JSON.parse(text) as LockInfo | number;
    if (typeof info === "number") return { pid: info };
    return typeof info?.pid === "number" ? info : undefined;
  } catch {
    return Number(text) ? { pid: Number(text) } : undefined;
  }
}

/** How long a breaker (held for a few milliseconds while a stale lock is replaced) may exist before it is itself stale. */
const BREAKER_STALE_MS = 5_000;

function removeIfStale(lock: string): void {
  const breaker = `${lock}.break`;
  try {
    fs.writeFileSync(breaker, String(process.pid), { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    try {
      if (Date.now() - fs.statSync(breaker).mtimeMs > BREAKER_STALE_MS) fs.rmSync(breaker, { force: true });
    } catch {
      // gone meanwhile
    }
    return; // someone else is replacing it: try again
  }
  try {
    const owner = readLock(lock);
    if (!owner || !holderAlive(owner)) fs.rmSync(lock, { force: true });
  } finally {
    fs.rmSync(breaker, { force: true });
  }
}

/**
 * Takes the lock of `dir` for this process, or fails with `busy(owner)` when a live process holds it.
 */
export function takeLock(dir: string, holder: string, busy: (owner: LockInfo) => string): Lock {
  const lock = path.join(dir, "lock");
  fs.mkdirSync(dir, { recursive: true });
  const mine: LockInfo = { pid: process.pid, startTime: processStartTime(process.pid), holder };
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      fs.writeFileSync(lock, JSON.stringify(mine), { flag: "wx" });
      return {
        release: () => {
          if (readLock(lock)?.pid === process.pid) fs.rmSync(lock, { force: true });
        },
        update: (info) => {
          Object.assign(mine, info);
          const tmp = `${lock}.tmp-${process.pid}`;
          fs.writeFileSync(tmp, JSON.stringify(mine));
          fs.renameSync(tmp, lock);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = readLock(lock);
      if (owner && owner.pid !== process.pid && holderAlive(owner)) throw new UserError(busy(owner));
      removeIfStale(lock);
    }
  }
  throw new UserError(`cannot lock the local lake in ${dir}; remove ${lock} if no app is running`);
}
