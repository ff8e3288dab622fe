/** The kinesis-local child process (local/kinesis.ts): launched on loopback ports with the shim preloaded, and waited for until it answers. */
import * as os from "os";
import { ChildProcess, spawn } from "child_process";
import * as net from "net";
import * as path from "path";
import { ListStreamsCommand } from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "../../runtime/client";
import { FLOORS_FILE_NAME } from "../kinesis-state";
import { LocalKinesisOptions, PERSIST_POLL, STATE_FILE_NAME } from "./options";

const SHIM = path.join(__dirname, "..", "kinesis-shim.js");

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

export interface Launched {
  child: ChildProcess;
  exited: () => boolean;
  exitPromise: Promise<void>;
  output: string[];
}

export function launch(options: LocalKinesisOptions, plainPort: number, tlsPort: number): Launched {
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
  // The emulator holds its whole state in one heap and parses the state file at once: Node's default heap
  // limit made it crash loading ~140 MB of state (records within retention), so it gets a quarter of the
  // machine's memory (at least 2 GiB, at most 16 GiB).
  const heapMiB = Math.max(2048, Math.min(16384, Math.floor(os.totalmem() / 4 / 2 ** 20)));
  const child = spawn(process.execPath, [`--max-old-space-size=${heapMiB}`, "-r", SHIM, main], {
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

export async function waitUntilAnswering(launched: Launched, endpoint: string, timeoutMs: number): Promise<void> {
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

export class EmulatorExited extends Error {
  constructor(readonly output: string) {
    super(`kinesis-local exited during start-up: ${output}`);
  }
}
