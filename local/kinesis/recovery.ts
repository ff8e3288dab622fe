/**
 * Before the emulator (local/kinesis.ts) starts on a `persistDir`: ends an orphaned emulator still holding
 * it, and makes its state file loadable (a previous snapshot, or empty streams, saying what was dropped).
 */
import * as fs from "fs";
import * as path from "path";
import { PID_FILE_NAME, STATE_FILE_NAME } from "./options";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8")); // a zombie is gone
  } catch {
    return true;
  }
}

/**
 * An emulator left running by an app that was killed exits by itself when it notices; if one is still
 * alive (busy writing a snapshot), end it before another emulator takes over its state.
 */
export async function endOrphan(persistDir: string): Promise<void> {
  const pidFile = path.join(persistDir, PID_FILE_NAME);
  const pid = Number(fs.readFileSync(pidFile, "utf8").trim() || 0) || 0;
  if (!pid || !isAlive(pid)) return;
  let cmdline = "";
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return; // not Linux, or gone: nothing we can check safely
  }
  if (!cmdline.includes("kinesis-shim.js")) return; // the pid was reused by something else
  process.kill(pid, "SIGKILL");
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** Why a state file cannot be loaded, or undefined when it parses. */
function unreadable(file: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT" ? undefined : (err as Error).message;
  }
  if (text.length === 0) return "it is empty (0 bytes)";
  try {
    JSON.parse(text);
    return undefined;
  } catch {
    return `it is not complete JSON (${text.length} bytes)`;
  }
}

function when(file: string): string {
  try {
    return fs.statSync(file).mtime.toISOString();
  } catch {
    return "an unknown time";
  }
}

/** Moves a state file that cannot be loaded aside (kept for inspection) and returns its new name. */
function setAside(file: string): string {
  const aside = `${file}.unreadable-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  fs.renameSync(file, aside);
  return aside;
}

/**
 * Makes `persistDir` loadable before a start. Returns the recovery line, or undefined when nothing was
 * dropped. `rejected` names a reason the emulator refused a file that parsed (it exited during start-up).
 */
export function prepareState(persistDir: string, rejected?: string): string | undefined {
  const state = path.join(persistDir, STATE_FILE_NAME);
  const prev = `${state}.prev`;
  for (const entry of fs.readdirSync(persistDir)) {
    if (entry.includes(".tmp-")) fs.rmSync(path.join(persistDir, entry), { force: true }); // a snapshot a kill interrupted
  }
  if (!rejected && !fs.existsSync(state) && fs.existsSync(prev)) {
    if (unreadable(prev) === undefined) {
      const at = when(prev);
      fs.renameSync(prev, state);
      return `local lake: the saved streams ${state} are missing; recovered the previous snapshot of ${at}: records acknowledged after it and no longer in the write-ahead log are lost`;
    }
  }
  const problem = rejected ?? unreadable(state);
  if (!problem || !fs.existsSync(state)) return undefined;
  const aside = setAside(state);
  const prevProblem = fs.existsSync(prev) ? unreadable(prev) : "missing";
  if (prevProblem === undefined) {
    const at = when(prev);
    fs.renameSync(prev, state); // moved, so a refusal of this one too falls back to empty streams
    return `local lake: the saved streams in ${state} could not be loaded (${problem}); recovered the previous snapshot of ${at}: records published after it are lost (the unreadable file is kept as ${path.basename(aside)})`;
  }
  if (fs.existsSync(prev)) fs.renameSync(prev, `${aside}.prev`);
  return `local lake: the saved streams in ${state} could not be loaded (${problem}) and no earlier snapshot could; started with empty streams: every record published before is lost (the unreadable file is kept as ${path.basename(aside)})`;
}
