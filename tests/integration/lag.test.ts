/**
 * `npm run -s lag` on the local lake: publish N records, consume K of them with a checkpoint, and lag
 * reports N-K records behind with a plausible time. Plus `checkpointLag` itself on kinesis-local with
 * records it put there: exact per-shard counts, the bound, closed and unknown shards.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { checkpointLag } from "../../apps/lag/lag";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { spawn } from "child_process";
import { AppRun, appArgs, PROJECT_DIR, runApp } from "../helpers/run-app";

/**
 * The subscriber with stdout going to a file, as a consumer writing its output somewhere durable: with a
 * pipe, the subscriber's checkpoint only covers records once 2 MiB of output follow them (they might still
 * sit in the pipe), so a small run would checkpoint nothing.
 */
function subscribeToFile(args: string[], env: NodeJS.ProcessEnv, out: string): Promise<AppRun> {
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(out, "w");
    const child = spawn(process.execPath, appArgs("apps/subscriber/main.ts", args), {
      cwd: PROJECT_DIR,
      env,
      stdio: ["ignore", fd, "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      fs.closeSync(fd);
      resolve({ code, stdout: fs.readFileSync(out, "utf8"), stderr });
    });
  });
}

describe("lag", function () {
  this.timeout(180_000);

  describe("npm run -s lag on the local lake", () => {
    let dir: string;
    const env = () => ({ ...process.env, DATALAKE_LOCAL_DIR: path.join(dir, "lake") });
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "lag-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("reports N-K records behind after publishing N and consuming K, with a plausible time", async () => {
      const n = 300;
      const k = 120;
      const before = Date.now();
      const pub = await runApp("apps/publisher/main.ts", ["--segment", "ingest/persons", "--count", String(n)], env());
      assert.strictEqual(pub.code, 0, pub.stderr);
      const published = Date.now();
      const checkpoint = path.join(dir, "cp.json");
      const sub = await subscribeToFile(
        ["--segment", "ingest/persons", "--from", "trim-horizon", "--max", String(k), "--checkpoint", checkpoint],
        env(),
        path.join(dir, "first.jsonl"),
      );
      assert.strictEqual(sub.code, 0, sub.stderr);
      assert.strictEqual(sub.stdout.trim().split("\n").length, k);

      const lag = await runApp("apps/lag/main.ts", ["--segment", "ingest/persons", "--checkpoint", checkpoint, "--json"], env());
      const after = Date.now();
      assert.strictEqual(lag.code, 0, lag.stderr);
      const shards = lag.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.strictEqual(shards.length, 2, "the dev stack's persons segment has 2 shards");
      assert.strictEqual(shards.reduce((sum, s) => sum + s.recordsBehind, 0), n - k, `${lag.stdout}\n${fs.readFileSync(checkpoint, "utf8")}\n${sub.stderr}`);
      for (const s of shards) {
        assert.strictEqual(s.exact, true);
        if (s.recordsBehind > 0) {
          // The oldest unread record arrived while publishing: its age lies between these bounds.
          assert.ok(s.millisBehind >= after - published - 1_000 && s.millisBehind <= after - before + 1_000, `${s.shardId}: ${s.millisBehind} ms`);
          assert.ok(Date.parse(s.oldestUnreadAt) >= before - 1_000 && Date.parse(s.oldestUnreadAt) <= published + 1_000);
        } else {
          assert.strictEqual(s.millisBehind, 0);
        }
      }
      assert.match(lag.stderr, new RegExp(`lag: 2 shards of datalake-dev-ingest-persons; ${n - k} records behind`));

      // The human table on stdout names every shard.
      const table = await runApp("apps/lag/main.ts", ["--segment", "ingest/persons", "--checkpoint", checkpoint], env());
      assert.strictEqual(table.code, 0, table.stderr);
      for (const s of shards) assert.match(table.stdout, new RegExp(`${s.shardId}\\s+(behind|caught-up)\\s+${s.recordsBehind}\\s`));

      // After consuming the rest, nothing is behind.
      const rest = await subscribeToFile(
        ["--segment", "ingest/persons", "--max", String(n - k), "--checkpoint", checkpoint],
        env(),
        path.join(dir, "rest.jsonl"),
      );
      assert.strictEqual(rest.code, 0, rest.stderr);
      const caughtUp = await runApp("apps/lag/main.ts", ["--segment", "ingest/persons", "--checkpoint", checkpoint, "--json"], env());
      assert.strictEqual(caughtUp.code, 0, caughtUp.stderr);
      const final = caughtUp.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.deepStrictEqual(final.map((s) => [s.status, s.recordsBehind, s.millisBehind]), [["caught-up", 0, 0], ["caught-up", 0, 0]]);
    });

    it("says in one line (exit 2) that an enhanced fan-out consumer's lag is not known on the local lake", async () => {
      const r = await runApp("apps/lag/main.ts", ["--segment", "ingest/persons", "--consumer", "fraud-model"], env());
      assert.strictEqual(r.code, 2, r.stderr);
      assert.strictEqual(r.stdout, "");
      assert.match(r.stderr.trim().split("\n").pop()!, /^error: --consumer fraud-model: the local lake has no CloudWatch/);
    });

    it("refuses a checkpoint of another stream, and a file that is not a checkpoint, in one line with exit 2", async () => {
      const other = path.join(dir, "other.json");
      fs.writeFileSync(other, JSON.stringify({ version: 1, stream: "datalake-dev-ingest-orders", shards: {} }));
      const wrong = await runApp("apps/lag/main.ts", ["--segment", "ingest/persons", "--checkpoint", other], env());
      assert.strictEqual(wrong.code, 2);
      assert.match(wrong.stderr.trim().split("\n").pop()!, /^error: --checkpoint .* belongs to stream "datalake-dev-ingest-orders", not "datalake-dev-ingest-persons"/);
      const junk = path.join(dir, "junk.json");
      fs.writeFileSync(junk, "hello");
      const bad = await runApp("apps/lag/main.ts", ["--segment", "ingest/persons", "--checkpoint", junk], env());
      assert.strictEqual(bad.code, 2);
      assert.strictEqual(bad.stderr.trim().split("\n").length, 1, bad.stderr);
      assert.match(bad.stderr, /is not a subscriber checkpoint/);
      const neither = await runApp("apps/lag/main.ts", ["--segment", "ingest/persons"], env());
      assert.strictEqual(neither.code, 2);
      assert.match(neither.stderr, /give exactly one of --checkpoint FILE .* or --consumer NAME/);
    });
  });

  describe("checkpointLag on kinesis-local", () => {
    const kinesis = useLocalKinesis();

    it("counts exactly what lies after each shard's checkpoint, bounds the count, and names unknown shards", async () => {
      const stream = await kinesis.createStream(kinesis.uniqueName("lag"), 1);
      await kinesis.client.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: Array.from({ length: 50 }, (_, i) => ({ PartitionKey: "k", Data: Buffer.from(JSON.stringify({ i })) })),
        }),
      );
      const it = await kinesis.client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON" }));
      const read = await kinesis.client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 20 }));
      const seq20 = read.Records![19].SequenceNumber!;

      const lags = await checkpointLag(kinesis.client, stream, { "shardId-000000000000": { sequenceNumber: seq20 }, "shardId-000000000099": { sequenceNumber: "1" } }, { pauseMs: 0 });
      assert.deepStrictEqual(lags.map((l) => [l.shardId, l.status, l.recordsBehind, l.exact]), [
        ["shardId-000000000000", "behind", 30, true],
        ["shardId-000000000099", "gone", undefined, false],
      ]);

      const capped = await checkpointLag(kinesis.client, stream, { "shardId-000000000000": { start: "trim-horizon" } }, { pauseMs: 0, maxRecords: 10, maxCalls: 1 });
      assert.strictEqual(capped[0].exact, false, "a bounded count says it is a lower bound");
      assert.ok(capped[0].recordsBehind! >= 1 && capped[0].recordsBehind! <= 50);

      const notStarted = await checkpointLag(kinesis.client, stream, {}, { pauseMs: 0 });
      assert.deepStrictEqual([notStarted[0].status, notStarted[0].recordsBehind], ["not-started", 50]);
      const ended = await checkpointLag(kinesis.client, stream, { "shardId-000000000000": { ended: true } }, { pauseMs: 0 });
      assert.deepStrictEqual([ended[0].status, ended[0].recordsBehind], ["ended", 0]);
    });
  });
});
