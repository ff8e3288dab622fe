/**
 * Runs one of the apps' entrypoints as a child process, as a user's shell would, and collects its output.
 */
import { spawn } from "child_process";
import * as path from "path";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/**
 * The launcher the apps' npm scripts use (package.json: `node scripts/run-ts.js <entry>`): the tests start
 * every app the way `npm run` does, so they also cover the launcher, and a start costs ~0.3 s.
 */
export const RUN_TS = path.join(PROJECT_DIR, "scripts", "run-ts.js");

/** The node arguments that run a TypeScript entry point the way the apps' npm scripts do. */
export function appArgs(entry: string, args: string[] = []): string[] {
  return [RUN_TS, entry, ...args];
}

export interface AppRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node scripts/run-ts.js <entry> ...args` in the project folder, with exactly `env`. */
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
