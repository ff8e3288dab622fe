/**
 * Runs one of the apps' entrypoints as a child process, as a user's shell would, and collects its output.
 */
import { spawn } from "child_process";
import * as path from "path";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

export interface AppRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node -r ts-node/register/transpile-only <entry> ...args` in the project folder, with exactly `env`. */
export function runApp(entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<AppRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", entry, ...args], {
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
