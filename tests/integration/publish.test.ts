/**
 * `npm run -s publish` as users run it, against kinesis-local: only LF and CRLF end a line, a line that
 * is not a UTF-8 JSON object is refused by its number before anything is sent, `--raw` publishes every
 * byte as it is, and Ctrl-C (a real SIGINT, also through a terminal) ends the run with "interrupted",
 * exit 130 and the line to resume from, where `--resume` goes on: every line arrives exactly once.
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { catalogFromConfig } from "../../runtime/catalog";
import { loadStackTopology } from "../../runtime/topology";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { appArgs, AppRun, PROJECT_DIR, runNpm } from "../helpers/run-app";
import { screenLines } from "../helpers/terminal-screen";

/** Every record's bytes a stream holds, read from every shard at TRIM_HORIZON until it is drained. */
async function readStream(client: KinesisClient, stream: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const shard of (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? []) {
    let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }))).ShardIterator;
    let empty = 0;
    while (iterator && empty < 2) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? []) out.push(Buffer.from(r.Data!));
      empty = (page.Records ?? []).length === 0 ? empty + 1 : 0;
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

const ids = (records: Buffer[]) => records.map((r) => (JSON.parse(r.toString("utf8")) as { id: string }).id);

describe("publish: lines, raw bytes, Ctrl-C and --resume (kinesis-local)", function () {
  this.timeout(300_000);
  const emulator = useLocalKinesis();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-publish-"));
  const persons = catalogFromConfig(loadStackTopology("dev"))["ingest/persons"];
  const streams: Record<string, string> = {};
  let env: NodeJS.ProcessEnv;
  const N = 30_000;
  const big = path.join(dir, "big.jsonl");

  before(async () => {
    const catalog: Record<string, unknown> = {};
    for (const [name, shards] of [["lines", 1], ["refused", 1], ["raw", 1], ["sigint", 4], ["tty", 4]] as const) {
      streams[name] = await emulator.createStream(emulator.uniqueName(`publish-${name}`), shards);
      catalog[`test/${name}`] = { ...persons, address: `test/${name}`, streamName: streams[name] };
    }
    fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify(catalog));
    env = {
      PATH: process.env.PATH,
      HOME: dir,
      SHELL: "/bin/sh",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL_KINESIS: emulator.endpoint,
      DATALAKE_CATALOG: path.join(dir, "catalog.json"),
    };
    fs.writeFileSync(big, Array.from({ length: N }, (_, i) => `${JSON.stringify({ id: `b-${i + 1}`, name: `dennis ${i + 1}`, age: i % 90 })}\n`).join(""));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const publishArgs = (segment: string, file: string, ...more: string[]) => ["--segment", segment, "--file", file, "--checkpoint", path.join(dir, `${segment.replace("/", "-")}.ckpt.json`), ...more];

  it("ends lines at LF and CRLF only: a CR inside a line stays in its record, byte for byte", async () => {
    const file = path.join(dir, "lines.jsonl");
    fs.writeFileSync(file, '{"id":"a","x":1,\r"y":2}\n{"id":"b"}\r\n{"id":"c","n":123456789012345678901}');
    const run = await runNpm("publish", publishArgs("test/lines", file), env);
    assert.strictEqual(run.status, 0, run.stderr);
    assert.match(run.stderr, /published 3 of 3 records/);
    const got = (await readStream(emulator.client, streams.lines)).map((b) => b.toString("utf8")).sort();
    assert.deepStrictEqual(got, ['{"id":"a","x":1,\r"y":2}', '{"id":"b"}', '{"id":"c","n":123456789012345678901}']);
  });

  it("refuses a line that is not JSON or not UTF-8, naming it, before anything is sent", async () => {
    const file = path.join(dir, "refused.jsonl");
    fs.writeFileSync(file, Buffer.concat([Buffer.from('{"id":"a"}\nhello world\n{"id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n[1]\n')]));
    const run = await runNpm("publish", publishArgs("test/refused", file), env);
    assert.strictEqual(run.status, 2, run.stderr);
    assert.match(
      run.stderr,
      /^error: nothing was published: line 2 of .*refused\.jsonl is not JSON; .*; line 3 of .*refused\.jsonl is not valid UTF-8; .*; line 4 of .*refused\.jsonl is JSON but not an object/m,
    );
    assert.deepStrictEqual(await readStream(emulator.client, streams.refused), []);
    // From stdin the run stops at that line, after delivering the lines before it.
    const stdin = await runNpm("publish", ["--segment", "test/refused"], env, { input: '{"id":"s1"}\nnot json\n{"id":"s2"}\n' });
    assert.strictEqual(stdin.status, 2, stdin.stderr);
    assert.match(stdin.stderr, /^error: stopped: line 2 of stdin is not JSON; .*the 1 records before it were delivered$/m);
  });

  it("--raw publishes every line's bytes exactly: not UTF-8, not JSON", async () => {
    const lines = [Buffer.from([0x61, 0xff, 0x62]), Buffer.from("plain text, not json"), Buffer.from([0xc3, 0x28, 0x0d, 0x7a])];
    const file = path.join(dir, "raw.bin");
    fs.writeFileSync(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from("\n")])));
    const run = await runNpm("publish", publishArgs("test/raw", file, "--raw"), env);
    assert.strictEqual(run.status, 0, run.stderr);
    const got = (await readStream(emulator.client, streams.raw)).map((b) => b.toString("hex")).sort();
    assert.deepStrictEqual(got, lines.map((l) => l.toString("hex")).sort());
  });

  it("Ctrl-C (SIGINT): 'interrupted', exit 130 and the line to resume from; --resume publishes the rest, every line exactly once", async () => {
    const args = publishArgs("test/sigint", big, "--key-field", "id");
    const child = spawn(process.execPath, appArgs("apps/publish/main.ts", args), { cwd: PROJECT_DIR, env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    const started = new Promise<void>((resolve) =>
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes("publishing the lines of")) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await started;
    await new Promise((r) => setTimeout(r, 1_500));
    child.kill("SIGINT");
    const code = await exited;
    assert.strictEqual(code, 130, stderr);
    assert.doesNotMatch(stderr, /could not be delivered|^error:/m);
    const said = /interrupted: lines 1 to (\d+) of .*big\.jsonl were published \((\d+) records in this run\), the lines from (\d+) on were not; run the same command with --resume to publish from line (\d+)/.exec(stderr);
    assert.ok(said, stderr);
    const [done, sent, next] = [Number(said[1]), Number(said[2]), Number(said[4])];
    assert.ok(done > 0 && done < N, `interrupted after ${done} of ${N} lines`);
    assert.deepStrictEqual([sent, next], [done, done + 1]);

    // The same command without --resume would publish the file twice: it is refused with both ways out.
    const again = await runNpm("publish", args, env);
    assert.strictEqual(again.status, 2, again.stderr);
    assert.match(again.stderr, new RegExp(`^error: an earlier run publishing .*big\\.jsonl was interrupted before line ${next} .*pass --resume .* or --restart`, "m"));

    const resumed = await runNpm("publish", [...args, "--resume"], env);
    assert.strictEqual(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, new RegExp(`published ${N - done} of ${N - done} records`));
    const got = ids(await readStream(emulator.client, streams.sigint));
    assert.strictEqual(got.length, N, "no line twice");
    assert.strictEqual(new Set(got).size, N, "every line once");
    const nothingLeft = await runNpm("publish", [...args, "--resume"], env);
    assert.strictEqual(nothingLeft.status, 2, nothingLeft.stderr);
    assert.match(nothingLeft.stderr, /^error: --resume: no interrupted run of .* to resume/m);
  });

  it("Ctrl-C in a terminal: the bar never overwrites the interruption notice or the summary", async function () {
    const args = publishArgs("test/tty", big, "--key-field", "id");
    const command = `stty cols 110 rows 30; exec ${[process.execPath, ...appArgs("apps/publish/main.ts", args)].map((a) => `'${a}'`).join(" ")}`;
    // `script` runs the command on a new pseudo-terminal; the ^C written to it is the terminal's Ctrl-C.
    const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd: PROJECT_DIR, env, stdio: ["pipe", "pipe", "pipe"] });
    let output = Buffer.alloc(0);
    let sentCtrlC = false;
    child.stdout.on("data", (chunk: Buffer) => {
      output = Buffer.concat([output, chunk]);
      if (!sentCtrlC && output.toString().includes("publishing [")) {
        sentCtrlC = true;
        setTimeout(() => child.stdin.write("\x03"), 1_000);
      }
    });
    const result: AppRun = await new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout: output.toString(), stderr: "" })));
    assert.ok(sentCtrlC, output.toString());
    assert.strictEqual(result.code, 130, output.toString());
    const screen = await screenLines(output, { cols: 110, rows: 30 });
    const notice = screen.findIndex((l) => l.startsWith("interrupted: finishing the records already taken"));
    const summary = screen.findIndex((l) => /^published \d+ of \d+ records in /.test(l));
    assert.ok(notice >= 0 && summary > notice, screen.join("\n"));
    assert.deepStrictEqual(
      screen.slice(summary + 1, summary + 3).map((l) => l.replace(/\d+/g, "N")),
      ["  retries: N records resent, N throttled requests", "  failed: N"],
    );
    assert.ok(screen.some((l) => /^interrupted: lines 1 to \d+ of .* were published/.test(l)), screen.join("\n"));
    assert.ok(!screen.some((l) => l.includes("publishing [") || l.includes("| eta")), screen.join("\n"));
  });
});
