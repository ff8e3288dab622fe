/**
 * Starts `kinesis-local` (the npm build of kinesis-mock) as a child process on free loopback ports, behind
 * the front door (`local/front-door.ts`) that clients use, and stops both again. Used by the local lake, by
 * the apps when no AWS target is configured, and by the tests.
 *
 * When persisting, every acknowledged write is durable: the front door logs accepted records (fsynced)
 * before it answers, and a start puts the records the last snapshot lacks back into it and drops records
 * past their stream's retention (`local/kinesis-state.ts`) before the emulator loads it.
 *
 * The emulator runs with `local/kinesis-shim.js` preloaded (loopback-only sockets, atomic snapshots that
 * skip unchanged state and cost at most about a tenth of its time, PutRecords that does not slow down as
 * shards fill, exit when its parent is gone), in its own process group so a terminal's Ctrl-C reaches only
 * the app, which stops the emulator itself after a last snapshot. A start recovers from a state file that
 * cannot be loaded: it falls back to the previous snapshot, then to empty streams, and says so in one line.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { ListStreamsCommand } from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "../runtime/client";
import { UserError } from "../runtime/errors";
import { FrontDoor, startFrontDoor } from "./front-door";
import { FLOORS_FILE_NAME, repairState, StateRepair } from "./kinesis-state";
import { WriteAheadLog } from "./write-ahead-log";

export interface LocalKinesisOptions {
  /** Folder where the emulator persists its streams between runs. @default none: in memory only */
  persistDir?: string;
  /** How long to wait for the emulator to answer, in ms. @default 60000 */
  startTimeoutMs?: number;
  /** Receives the emulator's own output lines. @default discard */
  log?: (line: string) => void;
  /** Receives the one line saying what a start had to drop to recover. @default a line on stderr */
  warn?: (line: string) => void;
  /** Least time between two snapshots of the state, in ms (what a snapshot lacks is in the write-ahead log). @default 1000 */
  snapshotMinIntervalMs?: number;
  /** Port of the front door on 127.0.0.1 (the address clients use). @default 0: a free port */
  port?: number;
  /** Receives progress lines (what a start put back or dropped). @default discard */
  info?: (line: string) => void;
}

export interface LocalKinesis {
  /** `http://127.0.0.1:<port>` (plain HTTP/1.1): the front door. */
  readonly endpoint: string;
  /** The front door's port. */
  readonly port: number;
  /** The TCP ports listened on (the front door, the emulator's plain HTTP and TLS), all on 127.0.0.1 only. */
  readonly ports: number[];
  /** The emulator's process id (it leads its own process group). */
  readonly pid: number;
  /** Writes a last snapshot (when persisting), stops the emulator and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

/** The state file kinesis-local writes under `persistDir` (its PERSIST_FILE_NAME default). */
export const STATE_FILE_NAME = "kinesis-data.json";
/** Records the running emulator's pid under `persistDir`, so a later start can end an orphan. */
const PID_FILE_NAME = "emulator.pid";
/** How often the emulator's persist loop looks whether a snapshot is due. */
const PERSIST_POLL = "200ms";
/** Longest wait for the last snapshot at stop. */
const FLUSH_TIMEOUT_MS = 60_000;
/** How often the write-ahead log moves to a new file, so that the files a snapshot holds can be deleted. */
const WAL_ROTATE_MS = 10_000;
/** The write-ahead log's folder under `persistDir`. */
export const WAL_DIR_NAME = "wal";

const SHIM = path.join(__dirname, "kinesis-shim.js");

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function emulatorMain(): string {
  return require.resolve("kinesis-local/main.js");
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

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
async function endOrphan(persistDir: string): Promise<void> {
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
function prepareState(persistDir: string, rejected?: string): string | undefined {
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

interface Launched {
  child: ChildProcess;
  exited: () => boolean;
  exitPromise: Promise<void>;
  output: string[];
}

function launch(options: LocalKinesisOptions, plainPort: number, tlsPort: number): Launched {
  const main = emulatorMain();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KINESIS_MOCK_PLAIN_PORT: String(plainPort),
    KINESIS_MOCK_TLS_PORT: String(tlsPort),
    KINESIS_MOCK_CERT_PATH: path.join(path.dirname(main), "server.json"),
    CREATE_STREAM_DURATION: "100ms",
    DELETE_STREAM_DURATION: "100ms",
    REGISTER_STREAM_CONSUMER_DURATION: "100ms",
    SPLIT_SHARD_DURATION: "200ms",
    MERGE_SHARDS_DURATION: "200ms",
    UPDATE_SHARD_COUNT_DURATION: "200ms",
    SHARD_LIMIT: "1000",
    ON_DEMAND_STREAM_COUNT_LIMIT: "100",
    LOG_LEVEL: process.env.KINESIS_LOCAL_LOG_LEVEL ?? "WARN",
    SHOULD_PERSIST_DATA: options.persistDir ? "true" : "false",
    LOAD_DATA_IF_EXISTS: options.persistDir ? "true" : "false",
    DATALAKE_KINESIS_MAIN: main,
  };
  if (options.persistDir) {
    env.PERSIST_PATH = path.resolve(options.persistDir);
    env.PERSIST_FILE_NAME = STATE_FILE_NAME;
    env.PERSIST_INTERVAL = PERSIST_POLL;
    env.DATALAKE_STATE_FILE = path.join(path.resolve(options.persistDir), STATE_FILE_NAME);
    env.DATALAKE_PERSIST_MIN_MS = String(options.snapshotMinIntervalMs ?? 1000);
    env.DATALAKE_SEQ_FLOORS = path.join(path.resolve(options.persistDir), FLOORS_FILE_NAME);
  }
  const child = spawn(process.execPath, ["-r", SHIM, main], {
    cwd: path.dirname(main),
    env,
    // Own process group: a terminal's Ctrl-C goes to the app, which stops the emulator after a last snapshot.
    detached: true,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  running.add(child);
  child.channel?.unref();
  child.unref();
  const output: string[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 50) output.shift();
      options.log?.(line);
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      running.delete(child);
      resolve();
    }),
  );
  return { child, exited: () => exited, exitPromise, output };
}

async function waitUntilAnswering(launched: Launched, endpoint: string, timeoutMs: number): Promise<void> {
  const client = createKinesisClient({ endpoint, maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (launched.exited()) {
        throw new EmulatorExited(launched.output.slice(-3).join(" | ") || "no output");
      }
      try {
        await client.send(new ListStreamsCommand({}));
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`kinesis-local did not answer on ${endpoint} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    client.destroy();
  }
}

class EmulatorExited extends Error {
  constructor(readonly output: string) {
    super(`kinesis-local exited during start-up: ${output}`);
  }
}

export async function startLocalKinesis(options: LocalKinesisOptions = {}): Promise<LocalKinesis> {
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const info = options.info ?? (() => undefined);
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const persistDir = options.persistDir ? path.resolve(options.persistDir) : undefined;
  let repair: StateRepair | undefined;
  if (persistDir) {
    fs.mkdirSync(persistDir, { recursive: true });
    if (fs.existsSync(path.join(persistDir, PID_FILE_NAME))) await endOrphan(persistDir);
    const recovered = prepareState(persistDir);
    if (recovered) warn(recovered);
    repair = repairState(path.join(persistDir, STATE_FILE_NAME), path.join(persistDir, WAL_DIR_NAME));
    for (const line of repair.warnings) warn(line);
    if (repair.restored > 0) info(`local lake: put back ${repair.restored} acknowledged records the last snapshot did not hold yet (from the write-ahead log)`);
    if (repair.finished > 0) info(`local lake: finished ${repair.finished} stream or consumer registrations (or deletions) a stop interrupted`);
    if (repair.expired > 0) info(`local lake: dropped ${repair.expired} records older than their stream's retention, as Kinesis does`);
  }
  let launched: Launched;
  let plainPort: number;
  // A state file that parses but that the emulator refuses: fall back twice (previous snapshot, empty).
  for (let attempt = 0; ; attempt++) {
    plainPort = await freePort();
    const tlsPort = await freePort();
    launched = launch(options, plainPort, tlsPort);
    if (persistDir) fs.writeFileSync(path.join(persistDir, PID_FILE_NAME), String(launched.child.pid));
    try {
      await waitUntilAnswering(launched, `http://127.0.0.1:${plainPort}`, timeoutMs);
      return await handle(launched, `http://127.0.0.1:${plainPort}`, [plainPort, tlsPort], persistDir, repair, options, warn);
    } catch (err) {
      launched.child.kill("SIGKILL");
      await launched.exitPromise;
      const stateExists = persistDir && fs.existsSync(path.join(persistDir, STATE_FILE_NAME));
      if (!(err instanceof EmulatorExited) || !stateExists || attempt >= 2) throw err;
      const recovered = prepareState(persistDir!, `kinesis-local refused it: ${err.output.slice(0, 200)}`);
      if (recovered) warn(recovered);
    }
  }
}

/** Asks the emulator to tell when a snapshot holds everything acknowledged so far (`force`: write one now). */
function snapshotRequests(child: ChildProcess) {
  let nextId = 0;
  const waiting: { id: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  const settle = (id: number, err?: Error) => {
    for (let i = waiting.length - 1; i >= 0; i--) {
      if (waiting[i].id > id) continue;
      const [w] = waiting.splice(i, 1);
      if (err) w.reject(err);
      else w.resolve();
    }
  };
  child.on("message", (m: { type?: string; id?: number; error?: string }) => {
    if (m?.type === "covered" && typeof m.id === "number") settle(m.id);
    if (m?.type === "snapshot-failed" && typeof m.id === "number") settle(m.id, new Error(`the snapshot could not be written: ${m.error}`));
  });
  child.once("exit", () => settle(Infinity, new Error("the emulator exited")));
  return (force: boolean): { id: number; done: Promise<void> } => {
    const id = ++nextId;
    const done = new Promise<void>((resolve, reject) => {
      waiting.push({ id, resolve, reject });
      if (!child.connected) return settle(id, new Error("the emulator is gone"));
      child.send({ type: "mark", id, force });
    });
    return { id, done };
  };
}

async function handle(
  launched: Launched,
  upstream: string,
  emulatorPorts: number[],
  persistDir: string | undefined,
  repair: StateRepair | undefined,
  options: LocalKinesisOptions,
  warn: (line: string) => void,
): Promise<LocalKinesis> {
  const { child, exitPromise } = launched;
  const request = snapshotRequests(child);
  const wal = persistDir ? new WriteAheadLog(path.join(persistDir, WAL_DIR_NAME)) : undefined;
  let door: FrontDoor;
  try {
    door = await startFrontDoor({
      port: options.port ?? 0,
      upstream,
      wal,
      durableShards: repair?.durableShards,
      snapshot: persistDir ? () => request(true).done : undefined,
      streams: repair?.streams,
      warn,
    });
  } catch (err) {
    await wal?.close();
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new UserError(`port ${options.port} on 127.0.0.1 is in use by another program; stop it, or start the local lake with --port <another port> (the apps then need the new export lines)`);
    }
    throw err;
  }
  // Rotation: a file of the log closed now is held by the next snapshot; it is deleted once the snapshot
  // after that is on disk too, so the previous snapshot (the fallback when the last one is unreadable) plus
  // the log still hold every acknowledged record.
  let heldThrough: number | undefined;
  const rotation = wal
    ? setInterval(() => {
        void wal
          .rotate()
          .then((closed) => {
            if (closed === undefined) return;
            return request(false).done.then(() => {
              if (heldThrough !== undefined) wal.dropThrough(heldThrough);
              heldThrough = closed;
            });
          })
          .catch(() => undefined); // the emulator stopped; the files stay for the next start
      }, WAL_ROTATE_MS)
    : undefined;
  rotation?.unref();
  let stopping: Promise<void> | undefined;
  return {
    endpoint: door.endpoint,
    port: door.port,
    ports: [door.port, ...emulatorPorts],
    pid: child.pid!,
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (rotation) clearInterval(rotation);
        await door.close();
        if (launched.exited()) {
          await wal?.close();
          return;
        }
        // The emulator was unref'd so it never holds an app open; while stopping, its exit must: otherwise the
        // event loop can empty between its pipes closing and its exit event, and the process ends (status 0)
        // without running what follows `await stop()`.
        child.ref();
        if (persistDir && wal && child.connected) {
          const { done } = request(true);
          const timer = new Promise<Error>((resolve) => setTimeout(() => resolve(new Error("no answer")), FLUSH_TIMEOUT_MS).unref());
          const outcome = await Promise.race([done.then(() => undefined, (err: Error) => err), timer]);
          await wal.close();
          if (outcome) {
            warn(`local lake: could not write the last snapshot of the streams (${outcome.message}); the write-ahead log keeps every acknowledged record for the next start`);
          } else {
            wal.dropThrough(Number.MAX_SAFE_INTEGER); // the last snapshot holds everything
          }
        }
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exitPromise;
        clearTimeout(timer);
        if (persistDir) fs.rmSync(path.join(persistDir, PID_FILE_NAME), { force: true });
      })();
      return stopping;
    },
  };
}
