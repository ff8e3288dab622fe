/**
 * The running emulator behind its front door (local/kinesis.ts): snapshot requests over its IPC channel,
 * write-ahead log rotation, and the stop that writes a last snapshot.
 */
import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { UserError } from "../../runtime/errors";
import { FrontDoor, startFrontDoor } from "../front-door";
import { StateRepair } from "../kinesis-state";
import { WriteAheadLog } from "../write-ahead-log";
import { Launched } from "./emulator";
import { FLUSH_TIMEOUT_MS, LocalKinesis, LocalKinesisOptions, PID_FILE_NAME, WAL_DIR_NAME, WAL_ROTATE_MS } from "./options";

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

export async function handle(
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
