/**
 * The local lake survives every way it can be stopped: kill -9 of its process group (and of the emulator's)
 * while records are being published, Ctrl-C, a double Ctrl-C; a start that had to drop state says so in one
 * line; and the emulator listens on loopback only. Real processes, real emulator.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KinesisClient, ListShardsCommand, PutRecordsCommand, GetShardIteratorCommand, GetRecordsCommand } from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "../../runtime/client";
import { startLocalKinesis, STATE_FILE_NAME } from "../../local/kinesis";
import { emulatorPid, LakeProcess, startLakeProcess, waitGone } from "../helpers/local-lake-process";

const PERSONS = "datalake-dev-ingest-persons";

/** Publishes batches until stopped; counts the records the emulator acknowledged. */
function publishUntilStopped(client: KinesisClient, prefix: string): { acked: () => number; stop: () => Promise<number> } {
  let acked = 0;
  let stopped = false;
  const loop = (async () => {
    for (let batch = 0; !stopped; batch++) {
      const records = Array.from({ length: 200 }, (_, i) => ({
        Data: Buffer.from(JSON.stringify({ id: `${prefix}-${batch}-${i}`, name: "dennis", age: 30 })),
        PartitionKey: `${batch}-${i}`,
      }));
      try {
        const out = await client.send(new PutRecordsCommand({ StreamName: PERSONS, Records: records }));
        acked += records.length - (out.FailedRecordCount ?? 0);
      } catch {
        return; // the lake was killed
      }
    }
  })();
  return {
    acked: () => acked,
    stop: async () => {
      stopped = true;
      await loop;
      return acked;
    },
  };
}

async function countRecords(client: KinesisClient, stream: string): Promise<number> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  let n = 0;
  for (const shard of shards) {
    let it = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }))).ShardIterator;
    for (;;) {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
      n += out.Records?.length ?? 0;
      if (!out.Records?.length && (out.MillisBehindLatest ?? 0) === 0) break;
      it = out.NextShardIterator;
    }
  }
  return n;
}

/** Local addresses (hex, as /proc/net shows them) listening on `port`. */
function listeners(port: number): string[] {
  const found: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== "0A") continue; // 0A = LISTEN
      const [addr, hexPort] = cols[1].split(":");
      if (parseInt(hexPort, 16) === port) found.push(addr);
    }
  }
  return found;
}

/**
 * Waits (at most 60 s) until the lake has written its state after publishing stopped: the state file
 * was replaced after `stoppedAt` and then left alone for 5 s. The first write after the stop may be a
 * snapshot begun before it; the shim then writes again at once (it skips only unchanged state), so a
 * file left alone holds every acknowledged record. A machine under load only makes this slower.
 */
async function stillStateWritten(stateFile: string, stoppedAt: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  const mtime = () => (fs.existsSync(stateFile) ? fs.statSync(stateFile).mtimeMs : 0);
  for (;;) {
    const last = mtime();
    if (last > stoppedAt && Date.now() - last >= 5_000) return;
    if (Date.now() > deadline) throw new Error(`the local lake wrote no still state within 60 s of the pause (${stateFile})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("the local lake under kill -9, Ctrl-C and broken state", function () {
  this.timeout(600_000);
  let dataDir: string;
  before(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-crash-"))));
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  async function killHard(lake: LakeProcess, alsoEmulator: boolean): Promise<void> {
    const emulator = emulatorPid(dataDir);
    process.kill(-lake.child.pid!, "SIGKILL");
    if (alsoEmulator && emulator) process.kill(-emulator, "SIGKILL");
    await lake.exited;
    // Killed or not, the emulator is gone soon: it exits when the lake that started it is gone.
    if (emulator) assert.ok(await waitGone(emulator), `emulator ${emulator} outlived the killed lake (${alsoEmulator ? "both groups killed" : "lake's group killed"})`);
  }

  // kill -9 at random moments while publishing and routing: tests/long/local-lake-kill-storm.test.ts.

  it("Ctrl-C and a double Ctrl-C to the terminal's process group: it starts again, and a single Ctrl-C keeps every acknowledged record", async () => {
    let lake = await startLakeProcess(dataDir);
    let client = createKinesisClient({ endpoint: lake.vars.AWS_ENDPOINT_URL_KINESIS, region: lake.vars.AWS_REGION });
    const before = await countRecords(client, PERSONS);
    const publisher = publishUntilStopped(client, "ctrl-c");
    await new Promise((r) => setTimeout(r, 1500));
    const acked = await publisher.stop();
    client.destroy();
    process.kill(-lake.child.pid!, "SIGINT");
    assert.strictEqual(await lake.exited, 0, lake.stderr());

    lake = await startLakeProcess(dataDir);
    client = createKinesisClient({ endpoint: lake.vars.AWS_ENDPOINT_URL_KINESIS, region: lake.vars.AWS_REGION });
    assert.strictEqual(await countRecords(client, PERSONS), before + acked, "a clean stop writes a last snapshot");
    const again = publishUntilStopped(client, "double");
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(-lake.child.pid!, "SIGINT");
    await new Promise((r) => setTimeout(r, 20));
    process.kill(-lake.child.pid!, "SIGINT");
    await lake.exited;
    await again.stop();
    client.destroy();
    const emulator = emulatorPid(dataDir);
    if (emulator) assert.ok(await waitGone(emulator));

    lake = await startLakeProcess(dataDir);
    assert.doesNotMatch(lake.stderr(), /could not be loaded/, lake.stderr());
    process.kill(-lake.child.pid!, "SIGINT");
    assert.strictEqual(await lake.exited, 0, lake.stderr());
  });

  it("kill -9 a few seconds after publishing paused loses nothing that was acknowledged", async () => {
    let lake = await startLakeProcess(dataDir);
    let client = createKinesisClient({ endpoint: lake.vars.AWS_ENDPOINT_URL_KINESIS, region: lake.vars.AWS_REGION });
    const before = await countRecords(client, PERSONS);
    const publisher = publishUntilStopped(client, "pause");
    const deadline = Date.now() + 60_000;
    while (publisher.acked() < 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const acked = await publisher.stop();
    await stillStateWritten(path.join(dataDir, "kinesis", STATE_FILE_NAME), Date.now());
    await killHard(lake, true);
    client.destroy();
    lake = await startLakeProcess(dataDir);
    client = createKinesisClient({ endpoint: lake.vars.AWS_ENDPOINT_URL_KINESIS, region: lake.vars.AWS_REGION });
    try {
      assert.strictEqual(await countRecords(client, PERSONS), before + acked);
    } finally {
      client.destroy();
      process.kill(-lake.child.pid!, "SIGINT");
      assert.strictEqual(await lake.exited, 0, lake.stderr());
    }
  });

  it("a state file cut short is replaced by the previous snapshot, in one line; with no good snapshot it starts empty, in one line", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-state-"));
    try {
      // Two snapshots: the previous one holds stream "a" only, the current one "a" and "b".
      let emulator = await startLocalKinesis({ persistDir: dir });
      let client = createKinesisClient({ endpoint: emulator.endpoint });
      const { ensureStream } = await import("../../runtime/streams");
      await ensureStream(client, { name: "a", shards: 1 });
      // The client first: a keep-alive connection left open holds the emulator's exit until stop()'s 5 s SIGKILL.
      client.destroy();
      await emulator.stop(); // last snapshot: "a"
      emulator = await startLocalKinesis({ persistDir: dir });
      client = createKinesisClient({ endpoint: emulator.endpoint });
      await ensureStream(client, { name: "b", shards: 1 });
      client.destroy();
      await emulator.stop(); // last snapshot: "a" and "b"; previous: "a"

      const state = path.join(dir, STATE_FILE_NAME);
      const text = fs.readFileSync(state, "utf8");
      fs.writeFileSync(state, text.slice(0, Math.floor(text.length / 2))); // what a kill during the old rewrite left
      const lines: string[] = [];
      emulator = await startLocalKinesis({ persistDir: dir, warn: (l) => lines.push(l) });
      client = createKinesisClient({ endpoint: emulator.endpoint });
      const { ListStreamsCommand } = await import("@aws-sdk/client-kinesis");
      assert.deepStrictEqual((await client.send(new ListStreamsCommand({}))).StreamNames, ["a"]);
      assert.strictEqual(lines.length, 1, lines.join("\n"));
      assert.match(lines[0], /could not be loaded \(it is not complete JSON \(\d+ bytes\)\); recovered the previous snapshot of .*records published after it are lost/);
      client.destroy();
      await emulator.stop();

      // The state deleted by hand while its previous snapshot is complete: recovered, with a notice, not emptied.
      assert.ok(fs.existsSync(`${state}.prev`), "a clean stop keeps the previous snapshot");
      fs.rmSync(state);
      lines.length = 0;
      emulator = await startLocalKinesis({ persistDir: dir, warn: (l) => lines.push(l) });
      client = createKinesisClient({ endpoint: emulator.endpoint });
      assert.deepStrictEqual((await client.send(new ListStreamsCommand({}))).StreamNames, ["a"]);
      assert.strictEqual(lines.length, 1, lines.join("\n"));
      assert.match(lines[0], /saved streams .* are missing; recovered the previous snapshot of /);
      client.destroy();
      await emulator.stop();

      // Both the state and its previous snapshot empty (0 bytes): start with empty streams, say so once.
      lines.length = 0;
      fs.writeFileSync(state, "");
      fs.writeFileSync(`${state}.prev`, "");
      lines.length = 0;
      emulator = await startLocalKinesis({ persistDir: dir, warn: (l) => lines.push(l) });
      client = createKinesisClient({ endpoint: emulator.endpoint });
      assert.deepStrictEqual((await client.send(new ListStreamsCommand({}))).StreamNames, []);
      assert.strictEqual(lines.length, 1, lines.join("\n"));
      assert.match(lines[0], /could not be loaded \(it is empty \(0 bytes\)\) and no earlier snapshot could; started with empty streams/);
      client.destroy();
      await emulator.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("drops records older than their stream's retention at start, as Kinesis does: reads and state lose them, newer records and positions stay", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-retention-"));
    try {
      let emulator = await startLocalKinesis({ persistDir: dir });
      let client = createKinesisClient({ endpoint: emulator.endpoint });
      const { ensureStream } = await import("../../runtime/streams");
      await ensureStream(client, { name: "r", shards: 1 });
      const put = (prefix: string) =>
        client.send(new PutRecordsCommand({ StreamName: "r", Records: Array.from({ length: 300 }, (_, i) => ({ Data: Buffer.from(`${prefix}-${i}`), PartitionKey: `${i}` })) }));
      await put("old");
      const kept = await put("new");
      client.destroy();
      await emulator.stop();

      // Age the first 300 records past the default 24 h retention (the state holds arrival times in seconds).
      const stateFile = path.join(dir, STATE_FILE_NAME);
      const state = JSON.parse(fs.readFileSync(stateFile, "utf8")) as { streams: Record<string, { shards: Record<string, { Data: string; ApproximateArrivalTimestamp: number }[]> }> };
      const dayAgo = Date.now() / 1000 - 25 * 3600;
      for (const stream of Object.values(state.streams))
        for (const list of Object.values(stream.shards)) list.forEach((r, i) => i < 300 && (r.ApproximateArrivalTimestamp = dayAgo + i / 1000));
      fs.writeFileSync(stateFile, JSON.stringify(state));
      fs.rmSync(`${stateFile}.prev`, { force: true });
      const sizeBefore = fs.statSync(stateFile).size;

      const lines: string[] = [];
      emulator = await startLocalKinesis({ persistDir: dir, info: (l) => lines.push(l) });
      client = createKinesisClient({ endpoint: emulator.endpoint });
      assert.ok(lines.some((l) => /dropped 300 records older than their stream's retention/.test(l)), lines.join("\n"));
      const shard = (await client.send(new ListShardsCommand({ StreamName: "r" }))).Shards![0].ShardId!;
      const read = async (type: "TRIM_HORIZON" | "AFTER_SEQUENCE_NUMBER", at?: string) => {
        const iterator = await client.send(new GetShardIteratorCommand({ StreamName: "r", ShardId: shard, ShardIteratorType: type, StartingSequenceNumber: at }));
        const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator, Limit: 10_000 }));
        return (page.Records ?? []).map((r: { Data?: Uint8Array }) => Buffer.from(r.Data!).toString());
      };
      const all = await read("TRIM_HORIZON");
      assert.deepStrictEqual(all, Array.from({ length: 300 }, (_, i) => `new-${i}`));
      // A reader's position inside what is kept still fits (no sequence number was renumbered).
      assert.deepStrictEqual(await read("AFTER_SEQUENCE_NUMBER", kept.Records![149].SequenceNumber), all.slice(150));
      client.destroy();
      await emulator.stop();
      assert.ok(fs.statSync(stateFile).size < sizeBefore * 0.75, "the state shrank");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("listens on loopback only (every socket of the emulator on 127.0.0.1)", async () => {
    const emulator = await startLocalKinesis();
    try {
      for (const port of emulator.ports) {
        const addrs = listeners(port);
        assert.ok(addrs.length > 0, `nothing listens on port ${port}`);
        // 0100007F is 127.0.0.1 in /proc/net/tcp; anything else (00000000 = 0.0.0.0, all-zero tcp6 = ::) is not loopback.
        assert.deepStrictEqual(addrs, addrs.map(() => "0100007F"), `port ${port} listens on ${addrs.join(", ")}`);
      }
    } finally {
      await emulator.stop();
    }
  });
});
