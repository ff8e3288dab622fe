/**
 * Runs `npm run local-lake` (its entrypoint) as a real process in its own process group, as a terminal
 * would run it, and waits for the variables it prints. Used by the local lake's fault tests.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { appArgs, PROJECT_DIR } from "./run-app";

export interface LakeProcess {
  child: ChildProcess;
  /** AWS_ENDPOINT_URL_KINESIS and DATALAKE_CATALOG as printed. */
  vars: Record<string, string>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal) once the process ended. */
  exited: Promise<number | string>;
}

/** Lakes started by this test run: a test that fails midway must not leave one running (they are detached). */
const started = new Set<ChildProcess>();
function killStarted(): void {
  for (const child of started) {
    try {
      process.kill(-child.pid!, "SIGKILL"); // its emulator exits by itself once the lake is gone
    } catch {
      // already gone
    }
  }
}
process.on("exit", killStarted);
// A test run stopped by a signal (a CI timeout, Ctrl-C) runs no exit handler: end the lakes first.
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  process.once(signal, () => {
    killStarted();
    process.kill(process.pid, signal);
  });
}

/** No AWS account configured at all, the lake's state in `dataDir`. */
export function lakeEnv(dataDir: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: os.tmpdir(), DATALAKE_LOCAL_DIR: dataDir, AWS_EC2_METADATA_DISABLED: "true" };
}

/** Starts the local lake; resolves once it printed its variables, rejects if it exits first. */
export function startLakeProcess(dataDir: string, args: string[] = [], timeoutMs = 120_000): Promise<LakeProcess> {
  const child = spawn(process.execPath, appArgs("apps/local-lake/main.ts", args), {
    cwd: PROJECT_DIR,
    env: lakeEnv(dataDir),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, like a job in a terminal
  });
  started.add(child);
  child.once("exit", () => started.delete(child));
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local lake did not print its variables within ${timeoutMs} ms:\n${err}`)), timeoutMs);
    const check = () => {
      const vars: Record<string, string> = {};
      for (const m of out.matchAll(/^export (\w+)=(.*)$/gm)) vars[m[1]] = m[2];
      if (vars.AWS_ENDPOINT_URL_KINESIS && vars.DATALAKE_CATALOG) {
        clearTimeout(timer);
        resolve({ child, vars, stdout: () => out, stderr: () => err, exited });
      }
    };
    child.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`local lake exited (${code}) before it was ready:\n${err}`));
    });
  });
}

/** The pid of the emulator the lake in `dataDir` runs (its own process group). */
export function emulatorPid(dataDir: string): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(dataDir, "kinesis", "emulator.pid"), "utf8")) || undefined;
  } catch {
    return undefined;
  }
}

/** True while `pid` runs (a zombie, dead but not yet reaped, counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/** Waits until `pid` is gone; false on timeout. */
export async function waitGone(pid: number, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
