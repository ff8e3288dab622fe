/**
 * Starts `kinesis-local` (the npm build of kinesis-mock) as a child process on free loopback ports and
 * stops it again. Used by the demo, by the apps when no AWS target is configured, and by the tests.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { ListStreamsCommand } from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "../apps/lib/client";

export interface LocalKinesisOptions {
  /** Folder where the emulator persists its streams between runs. @default none: in memory only */
  persistDir?: string;
  /** How long to wait for the emulator to answer, in ms. @default 60000 */
  startTimeoutMs?: number;
  /** Receives the emulator's own output lines. @default discard */
  log?: (line: string) => void;
}

export interface LocalKinesis {
  /** `http://127.0.0.1:<port>` (plain HTTP/1.1). */
  readonly endpoint: string;
  /** Stops the emulator (flushing persisted data first) and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

/** How often the emulator writes its state when persisting; stop() waits one interval before exiting. */
const PERSIST_INTERVAL_MS = 500;

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

export async function startLocalKinesis(options: LocalKinesisOptions = {}): Promise<LocalKinesis> {
  const main = emulatorMain();
  const plainPort = await freePort();
  const tlsPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KINESIS_MOCK_PLAIN_PORT: String(plainPort),
    KINESIS_MOCK_TLS_PORT: String(tlsPort),
    KINESIS_MOCK_CERT_PATH: path.join(path.dirname(main), "server.json"),
    CREATE_STREAM_DURATION: "100ms",
    DELETE_STREAM_DURATION: "100ms",
    SPLIT_SHARD_DURATION: "200ms",
    MERGE_SHARDS_DURATION: "200ms",
    UPDATE_SHARD_COUNT_DURATION: "200ms",
    SHARD_LIMIT: "1000",
    ON_DEMAND_STREAM_COUNT_LIMIT: "100",
    LOG_LEVEL: process.env.KINESIS_LOCAL_LOG_LEVEL ?? "WARN",
    SHOULD_PERSIST_DATA: options.persistDir ? "true" : "false",
    LOAD_DATA_IF_EXISTS: options.persistDir ? "true" : "false",
  };
  if (options.persistDir) {
    fs.mkdirSync(options.persistDir, { recursive: true });
    env.PERSIST_PATH = path.resolve(options.persistDir);
    env.PERSIST_INTERVAL = `${PERSIST_INTERVAL_MS}ms`;
  }
  const child = spawn(process.execPath, [main], {
    cwd: path.dirname(main),
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
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

  const endpoint = `http://127.0.0.1:${plainPort}`;
  const client = createKinesisClient({ endpoint, maxAttempts: 1 });
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  try {
    for (;;) {
      if (exited) {
        throw new Error(`kinesis-local exited during start-up: ${output.slice(-3).join(" | ") || "no output"}`);
      }
      try {
        await client.send(new ListStreamsCommand({}));
        break;
      } catch {
        if (Date.now() > deadline) {
          throw new Error(`kinesis-local did not answer on ${endpoint} within ${options.startTimeoutMs ?? 60_000} ms`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } catch (err) {
    child.kill("SIGKILL");
    await exitPromise;
    throw err;
  } finally {
    client.destroy();
  }

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (exited) return;
        // Give the emulator one persist interval so the last writes reach disk.
        if (options.persistDir) await new Promise((r) => setTimeout(r, PERSIST_INTERVAL_MS * 3));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exitPromise;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
