/**
 * Runs one of the apps' entrypoints as a child process, as a user's shell would, and collects its output.
 */
import { spawn } from "child_process";
import * as path from "path";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/**
 * Preloaded by every app the tests start: ts-node's transpile-only mode, as `npm run` runs the apps, with
 * the transpiled output of unchanged files kept on disk between processes (tests/helpers/ts-cache): the
 * same JavaScript, without 2-5 s of CPU per process spent transpiling the same files again.
 */
export const TS_NODE_REGISTER = path.join(PROJECT_DIR, "tests", "helpers", "ts-cache", "register.js");

/** The node arguments that run a TypeScript entry point the way the apps' npm scripts do. */
export function appArgs(entry: string, args: string[] = []): string[] {
  return ["-r", TS_NODE_REGISTER, entry, ...args];
}

export interface AppRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node -r <ts-node, transpile-only> <entry> ...args` in the project folder, with exactly `env`. */
export function runApp(entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<AppRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, appArgs(entry, args), {
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
