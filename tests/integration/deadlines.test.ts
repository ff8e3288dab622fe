/**
 * Every Kinesis call has a deadline (issue 6 item 1): the real apps, as processes, against a loopback
 * endpoint that accepts connections and never answers, one that refuses them, and a real kinesis-local
 * behind a proxy that freezes in the middle of a run. Each must end with exit 1 and one `error:` line;
 * a hang fails the test by mocha's timeout (no timed assertions).
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { FaultEndpoint, FreezableProxy, refusingEndpoint, startFreezableProxy, startSilentServer } from "../helpers/fault-endpoints";
import { AppRun, appArgs, PROJECT_DIR, runApp } from "../helpers/run-app";

const SUBSCRIBER = "apps/subscriber/main.ts";
const PUBLISHER = "apps/publisher/main.ts";

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, KINESIS_STREAM_NAME: "", ...extra };
}

/** One `error:` line, no stack trace, exit status 1. */
function assertFailedInOneLine(result: AppRun, pattern: RegExp): void {
  assert.strictEqual(result.code, 1, result.stderr);
  const errors = result.stderr.split("\n").filter((l) => l.startsWith("error:"));
  assert.strictEqual(errors.length, 1, result.stderr);
  assert.match(errors[0], pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
}

/** Starts an app and calls `onStdout`/`onStderr` as output arrives; resolves with everything at exit. */
function startApp(
  entry: string,
  args: string[],
  appEnv: NodeJS.ProcessEnv,
  onOutput: (stdout: string, stderr: string) => void,
): { child: ChildProcess; done: Promise<AppRun> } {
  const child = spawn(process.execPath, appArgs(entry, args), {
    cwd: PROJECT_DIR,
    env: appEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    onOutput(stdout, stderr);
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    onOutput(stdout, stderr);
  });
  const done = new Promise<AppRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

describe("call deadlines: frozen and refusing endpoints end the apps (exit 1, one line)", function () {
  this.timeout(90_000);
  let silent: FaultEndpoint;
  before(async () => {
    silent = await startSilentServer();
  });
  after(async () => {
    await silent.close();
  });

  it("subscriber: an endpoint that accepts and never answers", async () => {
    const result = await runApp(SUBSCRIBER, ["--stream", "s", "--endpoint", silent.endpoint, "--call-timeout", "1"], env());
    assertFailedInOneLine(result, /DescribeStreamSummary got no answer within 1 s.*--endpoint/);
  });

  it("publisher: an endpoint that accepts and never answers", async () => {
    const result = await runApp(PUBLISHER, ["--stream", "s", "--count", "10", "--endpoint", silent.endpoint, "--call-timeout", "1"], env());
    assertFailedInOneLine(result, /got no answer within 1 s/);
  });

  it("subscriber and publisher: a port that refuses connections", async () => {
    const refused = await refusingEndpoint();
    for (const [entry, extra] of [
      [SUBSCRIBER, []],
      [PUBLISHER, ["--count", "10"]],
    ] as const) {
      const result = await runApp(entry, ["--stream", "s", "--endpoint", refused, "--call-timeout", "2", ...extra], env());
      assertFailedInOneLine(result, /ECONNREFUSED|cannot reach/);
    }
  });
});

describe("call deadlines: an endpoint that freezes mid-run (kinesis-local behind a proxy)", function () {
  this.timeout(180_000);
  const lake = useLocalKinesis();
  let proxy: FreezableProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it("subscriber: stops with exit 1 and one line after its retry bound, having written what it read", async () => {
    const stream = await lake.createStream(lake.uniqueName("freeze-sub"), 2);
    await lake.client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: Array.from({ length: 200 }, (_, i) => ({ PartitionKey: `k${i}`, Data: Buffer.from(JSON.stringify({ id: i })) })),
      }),
    );
    proxy = await startFreezableProxy(lake.endpoint);
    const p = proxy;
    const { done } = startApp(
      SUBSCRIBER,
      ["--stream", stream, "--from", "trim-horizon", "--endpoint", p.endpoint, "--call-timeout", "1"],
      env(),
      (stdout) => {
        if (!p.frozen && stdout.split("\n").length > 200) p.freeze();
      },
    );
    const result = await done;
    assert.ok(p.frozen, `the subscriber ended before the freeze: ${result.stderr}`);
    assert.strictEqual(result.stdout.trim().split("\n").length, 200);
    assertFailedInOneLine(result, /failed \d+ times in a row over \d+ s; giving up \(last error TimeoutError: Kinesis \w+ got no answer within 1 s/);
  });

  it("publisher: exits 1 with the count of records it could not deliver", async () => {
    const stream = await lake.createStream(lake.uniqueName("freeze-pub"), 2);
    proxy = await startFreezableProxy(lake.endpoint);
    const p = proxy;
    const { done } = startApp(
      PUBLISHER,
      ["--stream", stream, "--count", "1000000", "--concurrency", "2", "--endpoint", p.endpoint, "--call-timeout", "1", "--record-timeout", "4"],
      env(),
      (_stdout, stderr) => {
        if (!p.frozen && /publishing 1000000 records/.test(stderr)) setTimeout(() => p.freeze(), 1_000);
      },
    );
    const result = await done;
    assert.ok(p.frozen);
    assertFailedInOneLine(result, /Kinesis accepted no record for 4 s|\d+ of 1000000 records could not be delivered/);
  });
});
