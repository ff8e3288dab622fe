/**
 * Bench section "durability": what the local lake's durable acknowledgements cost, and how its start-up
 * grows with state. Side by side in one run:
 *
 * - the publish rate through the front door (every acknowledged write fsynced to the write-ahead log
 *   first) against the same emulator's own port (acknowledged from memory, lost on kill -9: the lake
 *   before the write-ahead log);
 * - the start-up of a persisting emulator (what the local lake and every app on the embedded lake wait
 *   for) with empty state, ~10 MB and ~100 MB of records within retention.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "../runtime/client";
import { demoRecords, newRunId } from "../runtime/producer/records";
import { ensureStream } from "../runtime/streams";
import { publish } from "../runtime/producer/publisher";
import { startLocalKinesis } from "../local/kinesis";

export interface BenchOutput {
  say(line?: string): void;
  quick: boolean;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** Best of three publish runs of `n` demo records (a short run is easily slowed by other work here). */
export async function bestRate(client: KinesisClient, stream: string, n: number): Promise<number> {
  let best = 0;
  for (let i = 0; i < 3; i++) {
    const t = Date.now();
    const s = await publish(client, stream, demoRecords(newRunId(), n), { total: n });
    best = Math.max(best, (s.sent * 1000) / (Date.now() - t));
  }
  return best;
}

/** Writes about `mb` MB of 100 KiB records into stream "state" of a persisting emulator in `dir`, then stops it. */
async function fill(dir: string, mb: number): Promise<void> {
  const emulator = await startLocalKinesis({ persistDir: dir });
  const client = createKinesisClient({ endpoint: emulator.endpoint });
  try {
    await ensureStream(client, { name: "state", shards: 4 });
    if (mb === 0) return;
    const big = Buffer.alloc(100 * 1024, "x");
    await publish(
      client,
      "state",
      (function* () {
        for (let i = 0; i < mb * 10; i++) yield { data: big, partitionKey: `s${i}` };
      })(),
      { pacing: false },
    );
  } finally {
    client.destroy();
    await emulator.stop();
  }
}

/**
 * State of about `mb` MB: up to 10 MB published for real; beyond that, copies of that stream under other
 * names (kinesis-local stops answering while it serialises a snapshot of some 30 MB, so publishing 100 MB
 * through it times out; what the start-up reads is the same either way: records within retention).
 */
async function state(dir: string, mb: number): Promise<void> {
  await fill(dir, Math.min(mb, 10));
  const copies = Math.ceil(mb / 10);
  if (copies <= 1) return;
  const file = path.join(dir, "kinesis-data.json");
  const data = JSON.parse(fs.readFileSync(file, "utf8")) as { streams: Record<string, { streamName: string; streamArn: string }> };
  const [arn, stream] = Object.entries(data.streams).find(([, s]) => s.streamName === "state")!;
  for (let i = 1; i < copies; i++) {
    const name = `state-${i}`;
    const copyArn = arn.replace(/stream\/state$/, `stream/${name}`);
    data.streams[copyArn] = { ...stream, streamName: name, streamArn: copyArn };
  }
  fs.writeFileSync(file, JSON.stringify(data));
  fs.rmSync(`${file}.prev`, { force: true });
}

/** Median of three start-ups (until the emulator answers) on the state in `dir`. */
async function startUpMs(dir: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = Date.now();
    const emulator = await startLocalKinesis({ persistDir: dir });
    times.push(Date.now() - t);
    await emulator.stop();
  }
  return times.sort((a, b) => a - b)[1];
}

export async function durability(out: BenchOutput): Promise<void> {
  const { say, quick } = out;
  say("## 6. Local lake: durable acknowledgements and start-up with state");
  say();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-durable-"));
  try {
    const emulator = await startLocalKinesis({ persistDir: path.join(dir, "rate") });
    const viaDoor = createKinesisClient({ endpoint: emulator.endpoint });
    const direct = createKinesisClient({ endpoint: `http://127.0.0.1:${emulator.ports[1]}` });
    try {
      const n = quick ? 2000 : 6000;
      await ensureStream(viaDoor, { name: "door", shards: 2 });
      await ensureStream(viaDoor, { name: "direct", shards: 2 });
      // Alternate, so that other work on the machine slows both alike.
      const door1 = await bestRate(viaDoor, "door", n);
      const direct1 = await bestRate(direct, "direct", n);
      const door2 = await bestRate(viaDoor, "door", n);
      const direct2 = await bestRate(direct, "direct", n);
      const door = Math.max(door1, door2);
      const raw = Math.max(direct1, direct2);
      say(
        `- publish rate, best of 6 runs of ${fmt(n)} records each way: through the front door (acknowledged after fsync) ${fmt(door)} records/s; ` +
          `straight to the emulator (acknowledged from memory, lost on kill -9) ${fmt(raw)} records/s; ratio ${(door / raw).toFixed(2)}`,
      );
    } finally {
      viaDoor.destroy();
      direct.destroy();
      await emulator.stop();
    }

    const sizes = quick ? [0, 10] : [0, 10, 100];
    const results: string[] = [];
    let emptyMs = 0;
    for (const mb of sizes) {
      const stateDir = path.join(dir, `state-${mb}`);
      await state(stateDir, mb);
      const bytes = fs.statSync(path.join(stateDir, "kinesis-data.json")).size;
      const ms = await startUpMs(stateDir);
      if (mb === 0) emptyMs = ms;
      results.push(`${mb} MB of records (state file ${(bytes / 1e6).toFixed(1)} MB): ${fmt(ms)} ms${mb === 0 ? "" : ` (${(ms / emptyMs).toFixed(2)}× empty)`}`);
      process.stderr.write(`bench: start-up with ${results[results.length - 1]}\n`); // as it comes: a later size may fail
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
    say(`- start-up of a persisting emulator until it answers (median of 3): ${results.join("; ")}`);
    say(`  (target: under 2 s whatever the state; state is bounded by retention × rate, since records past retention are dropped at start)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  say();
}
