/**
 * The subscriber as a real process under the faults of issue 6 (items 2-6): `| head -N` then resume,
 * full disks (/dev/full, a file-size limit that cuts a line in two), a stream deleted and created again
 * under the same name, two subscribers on one checkpoint, failed saves, read-only checkpoints, a bad
 * sequence number, and a slow endpoint under --idle-timeout. Real kinesis-local, real pipes, no stubs.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DeleteStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { startFreezableProxy } from "../helpers/fault-endpoints";
import { AppRun, appArgs, PROJECT_DIR, runApp } from "../helpers/run-app";

/** The subscriber as its npm script starts it, as a shell command line. */
const NODE_SUBSCRIBER = [process.execPath, ...appArgs("apps/subscriber/main.ts")].map((a) => `"${a}"`).join(" ");

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, KINESIS_STREAM_NAME: "", ...extra };
}

interface Running {
  child: ChildProcess;
  done: Promise<AppRun>;
}

/** Runs a shell command line (pipes, redirections) in the project folder. */
function sh(command: string, appEnv: NodeJS.ProcessEnv, onStderr?: (stderr: string) => void): Running {
  const child = spawn("sh", ["-c", command], { cwd: PROJECT_DIR, env: appEnv, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    onStderr?.(stderr);
  });
  const done = new Promise<AppRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

function errorLines(result: AppRun): string[] {
  return result.stderr.split("\n").filter((l) => l.startsWith("error:"));
}

function assertOneErrorLine(result: AppRun, code: number, pattern: RegExp): void {
  assert.strictEqual(result.code, code, result.stderr);
  const errors = errorLines(result);
  assert.strictEqual(errors.length, 1, result.stderr);
  assert.match(errors[0], pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
}

/** Ids of the complete JSON lines of `text` (a cut-off last line is ignored). */
function ids(text: string): number[] {
  const lines = text.split("\n");
  lines.pop(); // "" after the last newline, or a partial line
  return lines.map((line) => JSON.parse(line).id as number);
}

function sequenceNumbers(file: string): string[] {
  const data = JSON.parse(fs.readFileSync(file, "utf8"));
  return Object.values(data.shards as Record<string, { sequenceNumber?: string }>)
    .map((s) => s.sequenceNumber)
    .filter((s): s is string => Boolean(s));
}

describe("subscriber under faults (real processes, kinesis-local)", function () {
  this.timeout(180_000);
  const lake = useLocalKinesis();
  let tmp: string;
  let big: string;
  const BIG_COUNT = 3000;
  /** Every line is exactly LINE bytes (newline included), so a size limit always cuts one in two. */
  const LINE = 200;

  function line(id: number): string {
    const bare = JSON.stringify({ id, pad: "" });
    return `${JSON.stringify({ id, pad: "x".repeat(LINE - 1 - bare.length) })}\n`;
  }

  async function publish(stream: string, from: number, count: number): Promise<void> {
    for (let i = from; i < from + count; i += 500) {
      const n = Math.min(500, from + count - i);
      const out = await lake.client.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: Array.from({ length: n }, (_, j) => ({ PartitionKey: `k${i + j}`, Data: Buffer.from(line(i + j)) })),
        }),
      );
      assert.strictEqual(out.FailedRecordCount ?? 0, 0);
    }
  }

  before(async function () {
    this.timeout(120_000);
    // The npm scripts' launcher builds the app's bundle on a first start; a start under `ulimit -f` below
    // must find it built, so the limit hits the subscriber's output and not the launcher's build.
    const warm = await runApp("apps/subscriber/main.ts", ["--help"], env());
    assert.strictEqual(warm.code, 0, warm.stderr);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sub-faults-"));
    big = await lake.createStream(lake.uniqueName("faults-big"), 4);
    await publish(big, 0, BIG_COUNT);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function endpointEnv(): NodeJS.ProcessEnv {
    return env({ AWS_ENDPOINT_URL_KINESIS: lake.endpoint });
  }

  it("item 2: `| head -N` runs, then a resume: every record reaches a reader at least once", async () => {
    const checkpoint = path.join(tmp, "head.json");
    const seen = new Set<number>();
    // The margin sized for GNU head on Linux (a 64 KiB pipe, 8 KiB reads) with room to spare, so the
    // checkpoint moves within this small stream; the default (pipe-max-size + 1 MiB) is larger still.
    for (const [round, n] of [1200, 1200].entries()) {
      const run = await sh(
        `${NODE_SUBSCRIBER} --stream ${big} --from trim-horizon --checkpoint ${checkpoint} --pipe-margin 196608 --idle-timeout 10 | head -n ${n}`,
        endpointEnv(),
      ).done;
      assert.strictEqual(run.code, 0, run.stderr);
      assert.match(run.stderr, /stdout was closed after \d+ records; stopped \(checkpoint saved/);
      const got = ids(run.stdout);
      assert.strictEqual(got.length, n);
      got.forEach((id) => seen.add(id));
      // Not vacuous: the checkpoint moved on (the margin behind what the pipe accepted).
      if (round === 0) assert.ok(sequenceNumbers(checkpoint).length > 0, fs.readFileSync(checkpoint, "utf8"));
    }
    const rest = await sh(`${NODE_SUBSCRIBER} --stream ${big} --from trim-horizon --checkpoint ${checkpoint} --idle-timeout 4`, endpointEnv()).done;
    assert.strictEqual(rest.code, 0, rest.stderr);
    ids(rest.stdout).forEach((id) => seen.add(id));
    const missing = Array.from({ length: BIG_COUNT }, (_, i) => i).filter((i) => !seen.has(i));
    assert.deepStrictEqual(missing, [], `${missing.length} records never reached a reader`);
  });

  it("item 3: stdout on /dev/full: exit 1 in one line, and the checkpoint covers no record", async () => {
    const checkpoint = path.join(tmp, "full.json");
    const run = await sh(`${NODE_SUBSCRIBER} --stream ${big} --from trim-horizon --checkpoint ${checkpoint} --max 20 --idle-timeout 10 > /dev/full`, endpointEnv()).done;
    assertOneErrorLine(run, 1, /cannot write to stdout \(ENOSPC/);
    assert.deepStrictEqual(sequenceNumbers(checkpoint), []);
  });

  it("item 3: a disk that fills in the middle of a line (file-size limit): exit 1; the cut line's record comes again on resume", async () => {
    const checkpoint = path.join(tmp, "cut.json");
    const first = path.join(tmp, "cut-1.jsonl");
    // 64 blocks (32 or 64 KiB) is no multiple of a line: the limit cuts one in two (EFBIG; Node ignores SIGXFSZ).
    const run = await sh(
      `ulimit -f 64 && exec ${NODE_SUBSCRIBER} --stream ${big} --from trim-horizon --checkpoint ${checkpoint} --idle-timeout 10 > ${first}`,
      endpointEnv(),
    ).done;
    assertOneErrorLine(run, 1, /cannot write to stdout \((EFBIG|ENOSPC)/);
    const text = fs.readFileSync(first, "utf8");
    assert.ok(!text.endsWith("\n"), "the limit should have cut a line in two");
    const resumed = await sh(`${NODE_SUBSCRIBER} --stream ${big} --from trim-horizon --checkpoint ${checkpoint} --idle-timeout 4`, endpointEnv()).done;
    assert.strictEqual(resumed.code, 0, resumed.stderr);
    const seen = new Set([...ids(text), ...ids(resumed.stdout)]);
    const missing = Array.from({ length: BIG_COUNT }, (_, i) => i).filter((i) => !seen.has(i));
    assert.deepStrictEqual(missing, []);
  });

  it("item 4: a checkpoint of a deleted stream is refused for a new stream of the same name; one naming no shard of the stream too", async () => {
    const stream = await lake.createStream(lake.uniqueName("faults-again"), 2);
    await publish(stream, 0, 20);
    const checkpoint = path.join(tmp, "again.json");
    const first = await sh(`${NODE_SUBSCRIBER} --stream ${stream} --from trim-horizon --checkpoint ${checkpoint} --idle-timeout 3 > /dev/null`, endpointEnv()).done;
    assert.strictEqual(first.code, 0, first.stderr);
    const saved = JSON.parse(fs.readFileSync(checkpoint, "utf8"));
    assert.match(saved.streamArn, new RegExp(`stream/${stream}$`));

    await lake.client.send(new DeleteStreamCommand({ StreamName: stream }));
    for (;;) {
      const gone = await lake.client.send(new DescribeStreamSummaryCommand({ StreamName: stream })).then(
        () => false,
        (err) => (err as Error).name === "ResourceNotFoundException",
      );
      if (gone) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await lake.createStream(stream, 2);
    await publish(stream, 100, 20);
    const again = await sh(`${NODE_SUBSCRIBER} --stream ${stream} --from trim-horizon --checkpoint ${checkpoint} --idle-timeout 3`, endpointEnv()).done;
    assertOneErrorLine(again, 2, /belongs to an earlier stream .* move the file away/);
    assert.strictEqual(again.stdout, "");
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(checkpoint, "utf8")), saved, "a refused checkpoint is left as it was");

    // A checkpoint without the identity (older format) that names none of the stream's shards.
    const foreign = path.join(tmp, "foreign.json");
    fs.writeFileSync(foreign, JSON.stringify({ version: 1, stream, shards: { "shardId-000000000007": { sequenceNumber: "1", ended: true } } }));
    const none = await sh(`${NODE_SUBSCRIBER} --stream ${stream} --from trim-horizon --checkpoint ${foreign} --idle-timeout 3`, endpointEnv()).done;
    assertOneErrorLine(none, 2, /names none of stream .*shardId-000000000007.*move it away/);
  });

  it("item 5: a second subscriber on the same checkpoint file is refused in one line", async () => {
    const checkpoint = path.join(tmp, "locked.json");
    let started!: () => void;
    const firstStarted = new Promise<void>((resolve) => (started = resolve));
    const first = sh(`exec ${NODE_SUBSCRIBER} --stream ${big} --from latest --checkpoint ${checkpoint} --idle-timeout 60`, endpointEnv(), (stderr) => {
      if (/subscribe: /.test(stderr)) started();
    });
    await firstStarted;
    const second = await sh(`${NODE_SUBSCRIBER} --stream ${big} --from latest --checkpoint ${checkpoint} --idle-timeout 5`, endpointEnv()).done;
    first.child.kill("SIGTERM");
    const firstResult = await first.done;
    assertOneErrorLine(second, 2, /is in use by another subscriber/);
    assert.strictEqual(firstResult.code, 0, firstResult.stderr);
    assert.ok(!fs.existsSync(`${checkpoint}.lock`), "the lock is released at the end");
  });

  it("item 6: a failed final save exits 1 without claiming `(checkpoint saved)` and leaves no temp file", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "save-"));
    const checkpoint = path.join(dir, "cp.json");
    const child = spawn(
      process.execPath,
      appArgs("apps/subscriber/main.ts", ["--stream", big, "--from", "trim-horizon", "--checkpoint", checkpoint]),
      { cwd: PROJECT_DIR, env: endpointEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    let broken = false;
    let got = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      got += chunk.length;
      if (!broken) {
        // Records flow, so the checkpoint was loaded: its path becomes a non-empty directory, and every
        // save's rename fails from now on.
        broken = true;
        fs.rmSync(checkpoint, { force: true });
        fs.mkdirSync(checkpoint);
        fs.writeFileSync(path.join(checkpoint, "keep"), "");
      } else if (got > 50_000) {
        child.stdout.destroy(); // the reader goes away: EPIPE
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.strictEqual(code, 1, stderr);
    assert.doesNotMatch(stderr, /checkpoint saved/);
    assert.match(stderr, /error: cannot save --checkpoint/);
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), [], "no temp file left");
  });

  it("item 6: a read-only checkpoint file is refused, not replaced", async () => {
    const checkpoint = path.join(tmp, "readonly.json");
    const content = JSON.stringify({ version: 1, stream: big, shards: {} });
    fs.writeFileSync(checkpoint, content);
    fs.chmodSync(checkpoint, 0o444);
    const run = await sh(`${NODE_SUBSCRIBER} --stream ${big} --from trim-horizon --checkpoint ${checkpoint} --max 5`, endpointEnv()).done;
    assertOneErrorLine(run, 2, /is read-only; it is not replaced/);
    assert.strictEqual(fs.readFileSync(checkpoint, "utf8"), content);
    assert.strictEqual(fs.statSync(checkpoint).mode & 0o777, 0o444);
    assert.strictEqual(run.stdout, "");
  });

  it("a checkpoint that says an open shard ended, or starts a shard in the future, is refused naming the file, not followed", async () => {
    const stream = await lake.createStream(lake.uniqueName("faults-ended"), 2);
    await publish(stream, 0, 40);
    const checkpoint = path.join(tmp, "ended.json");
    const shards = { "shardId-000000000000": { ended: true } };
    fs.writeFileSync(checkpoint, JSON.stringify({ version: 1, stream, shards }));
    const ended = await sh(`${NODE_SUBSCRIBER} --stream ${stream} --from trim-horizon --checkpoint ${checkpoint} --idle-timeout 3`, endpointEnv()).done;
    assertOneErrorLine(ended, 2, new RegExp(`^error: checkpoint ${checkpoint} says shard shardId-000000000000 was read to its end, but the stream lists it open.*move it away`));
    assert.strictEqual(ended.stdout, "", "no shard is read from a checkpoint that does not fit");
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(checkpoint, "utf8")).shards, shards, "the file is left as it was");

    fs.writeFileSync(checkpoint, JSON.stringify({ version: 1, stream, shards: { "shardId-000000000000": { start: { atTimestamp: "2999-01-01T00:00:00.000Z" } } } }));
    const future = await sh(`${NODE_SUBSCRIBER} --stream ${stream} --checkpoint ${checkpoint} --idle-timeout 3`, endpointEnv()).done;
    assertOneErrorLine(future, 2, new RegExp(`^error: --checkpoint ${checkpoint}: shard shardId-000000000000 starts at 2999-01-01T00:00:00.000Z, which is in the future`));
  });

  it("a checkpoint made read-only while the subscriber runs is refused, not replaced", async () => {
    const stream = await lake.createStream(lake.uniqueName("faults-ro"), 1);
    await publish(stream, 0, 20);
    const checkpoint = path.join(tmp, "ro-running.json");
    const running = sh(`exec ${NODE_SUBSCRIBER} --stream ${stream} --from trim-horizon --checkpoint ${checkpoint} --idle-timeout 4 > /dev/null`, endpointEnv());
    // Once the first records' positions are saved, the file is made read-only; more records then arrive.
    const deadline = Date.now() + 60_000;
    while (!(fs.existsSync(checkpoint) && sequenceNumbers(checkpoint).length > 0)) {
      assert.ok(Date.now() < deadline, "the subscriber never saved a position");
      await new Promise((r) => setTimeout(r, 50));
    }
    fs.chmodSync(checkpoint, 0o444);
    const frozen = fs.readFileSync(checkpoint, "utf8");
    await publish(stream, 100, 20);
    const result = await running.done;
    assertOneErrorLine(result, 1, new RegExp(`^error: --checkpoint ${checkpoint} was made read-only while the subscriber ran; it is not replaced`));
    assert.strictEqual(fs.readFileSync(checkpoint, "utf8"), frozen);
    assert.strictEqual(fs.statSync(checkpoint).mode & 0o777, 0o444);
  });

  it("item 6: a sequence number the shard does not know is reported as such, not as `stream not found`", async () => {
    const checkpoint = path.join(tmp, "badseq.json");
    fs.writeFileSync(checkpoint, JSON.stringify({ version: 1, stream: big, shards: { "shardId-000000000000": { sequenceNumber: "123" } } }));
    const run = await sh(`${NODE_SUBSCRIBER} --stream ${big} --checkpoint ${checkpoint} --idle-timeout 5 > /dev/null`, endpointEnv()).done;
    assertOneErrorLine(run, 2, /shard shardId-000000000000 (refused )?sequence number 123[ ,].*does not fit (this )?stream/);
    assert.doesNotMatch(run.stderr, /stream not found/);
  });

  it("item 6: --idle-timeout does not fire while a slow read is still in flight", async () => {
    const stream = await lake.createStream(lake.uniqueName("faults-slow"), 1);
    await publish(stream, 0, 30);
    // Every answer held 1.6 s: longer than --idle-timeout 1, so a timer that counted a read in flight as
    // idle would stop the run before the first records.
    const slow = await startFreezableProxy(lake.endpoint, 1_600);
    try {
      const run = await sh(`${NODE_SUBSCRIBER} --stream ${stream} --from trim-horizon --idle-timeout 1 --endpoint ${slow.endpoint}`, env()).done;
      assert.strictEqual(run.code, 0, run.stderr);
      assert.deepStrictEqual(ids(run.stdout).sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i));
      assert.match(run.stderr, /stopped: --idle-timeout reached/);
    } finally {
      await slow.close();
    }
  });
});
