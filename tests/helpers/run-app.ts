/**
 * Runs one of the apps' entrypoints as a child process, as a user's shell would, and collects its output.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/**
 * The launcher most of the apps' npm scripts use (package.json: `node scripts/run-ts.js <entry>`, a cached
 * esbuild bundle, ~0.3 s a start).
 */
export const RUN_TS = path.join(PROJECT_DIR, "scripts", "run-ts.js");

/** ts-node in transpile-only mode, its output cached on disk (tests/helpers/ts-cache): what `ts-node --transpile-only` runs. */
export const TS_NODE_REGISTER = path.join(PROJECT_DIR, "tests", "helpers", "ts-cache", "register.js");

const SCRIPTS: Record<string, string> = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")).scripts ?? {};

/**
 * The node arguments that run a TypeScript entry point the way its npm script does: through run-ts.js when
 * the script uses it, otherwise through ts-node (`policy-check`, which loads the Pulumi program's .ts
 * files at run time, and entry points without a script).
 */
export function appArgs(entry: string, args: string[] = []): string[] {
  const script = Object.values(SCRIPTS).find((command) => command.split(/\s+/).includes(entry));
  if (script !== undefined && /^node scripts\/run-ts\.js /.test(script)) return [RUN_TS, entry, ...args];
  return ["-r", TS_NODE_REGISTER, entry, ...args];
}

export interface AppRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node ...nodeArgs` in the project folder, with exactly `env`; collects its output and exit status. */
export function runNode(nodeArgs: string[], env: NodeJS.ProcessEnv): Promise<AppRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, nodeArgs, {
      cwd: PROJECT_DIR,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** `node <as its npm script runs it> <entry> ...args` in the project folder, with exactly `env`. */
export function runApp(entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<AppRun> {
  return runNode(appArgs(entry, args), env);
}

export interface NpmRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm run -s <script> -- ...args` as a user types it, without blocking this process: the tests' emulator
 * has its front door in this process, so a synchronous spawn would leave every app call unanswered.
 * Killed (status null) after `timeoutMs`.
 */
export function runNpm(script: string, args: string[], env: NodeJS.ProcessEnv, options: { input?: string; timeoutMs?: number } = {}): Promise<NpmRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "-s", script, "--", ...args], { cwd: PROJECT_DIR, env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[test] npm run ${script} killed after ${options.timeoutMs ?? 170_000} ms`;
      try {
        process.kill(-child.pid!, "SIGKILL"); // npm and the app it started
      } catch {
        // already gone
      }
    }, options.timeoutMs ?? 170_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ status: code, stdout, stderr });
    });
    child.stdin!.on("error", () => undefined); // an app that exits before reading all of stdin
    child.stdin!.end(options.input ?? "");
  });
}
