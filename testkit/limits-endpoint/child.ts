/**
 * The limits endpoint in a child process of its own (so it does not share a CPU with the client being
 * measured), and the command line that child runs:
 *
 *   ts-node --transpile-only testkit/limits-endpoint/child.ts --backend http://127.0.0.1:4567
 *   ts-node --transpile-only testkit/limits-endpoint/child.ts --backend null --shards 4 [--no-enforce]
 *
 * It prints `LIMITS_ENDPOINT=http://127.0.0.1:<port>` on stdout once it listens.
 */
import { ChildProcess, spawn } from "child_process";
import * as http from "http";
import * as path from "path";
import { LimitsEndpointOptions } from "./options";
import { startLimitsEndpoint } from "./server";
import { LimitsStats } from "./stats";

/** The endpoint in a child process (so it does not share a CPU with the client being measured). */
export interface ChildLimitsEndpoint {
  readonly endpoint: string;
  stats(stream?: string): Promise<LimitsStats>;
  resetStats(): Promise<void>;
  stop(): Promise<void>;
}

function getJson(url: string, method = "GET"): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`${url} did not answer within 10 s`)));
    req.on("error", reject);
    req.end();
  });
}

/** Starts the endpoint in a child process (ts-node, this file) and waits until it listens (at most 60 s). */
export async function spawnLimitsEndpoint(options: Omit<LimitsEndpointOptions, "now">): Promise<ChildLimitsEndpoint> {
  const child: ChildProcess = spawn(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.join(__dirname, "child.ts"), "--options", JSON.stringify(options)],
    { stdio: ["ignore", "pipe", "inherit"], cwd: path.join(__dirname, "..", "..") },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("the limits endpoint did not start within 60 s")), 60_000);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /LIMITS_ENDPOINT=(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the limits endpoint exited during start-up (status ${code})`));
    });
  });
  return {
    endpoint,
    stats: (stream) => getJson(`${endpoint}/__limits/stats${stream ? `?stream=${encodeURIComponent(stream)}` : ""}`) as Promise<LimitsStats>,
    resetStats: async () => void (await getJson(`${endpoint}/__limits/reset`, "POST")),
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  let options: LimitsEndpointOptions;
  if (flag("--options")) options = JSON.parse(flag("--options")!);
  else {
    const backend = flag("--backend");
    if (!backend) {
      process.stderr.write("usage: testkit/limits-endpoint/child.ts --backend http://127.0.0.1:PORT | --backend null [--shards N] [--no-enforce]\n");
      process.exit(2);
    }
    options = {
      backend: backend === "null" ? { type: "null", shards: Number(flag("--shards") ?? 1) } : backend,
      enforce: !args.includes("--no-enforce"),
    };
  }
  startLimitsEndpoint(options).then(
    (ep) => {
      process.stdout.write(`LIMITS_ENDPOINT=${ep.endpoint}\n`);
      const stop = () => void ep.close().then(() => process.exit(0));
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    },
    (err: Error) => {
      process.stderr.write(`error: limits endpoint could not start: ${err.message}\n`);
      process.exit(1);
    },
  );
}
