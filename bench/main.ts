/**
 * `npm run bench`: speed and memory of the apps against a real kinesis-local, reported as ratios measured
 * in one run (these machines are shared and noisy; absolute numbers vary, ratios much less).
 *
 *   publish:   the original example (one PutRecord per record, one partition key, one at a time)
 *              vs. the publisher (PutRecords batches, lanes in flight, keys spread over shards)
 *   subscribe: the original example (shard 0 only) vs. the subscriber (every shard, parents first)
 *   latency:   the same two publishers against an in-memory sender with a fixed round trip (--rtt ms,
 *              default 20, like a real AWS region), which shows the design's gain without the
 *              emulator's own per-record cost
 *   memory:    the publisher's peak heap for N vs. 10*N records (bounded memory means a ratio near 1)
 *
 * Options: --records N (default 20000), --baseline N (records for the slow original, default 2000),
 * --shards N (default 4).
 */
import { GetRecordsCommand, GetShardIteratorCommand, PutRecordCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { Command, Option } from "commander";
import { createKinesisClient } from "../apps/lib/client";
import { startLocalKinesis } from "../local/kinesis";
import { demoRecords, encodeRecord, newRunId, personRecord } from "../apps/lib/records";
import { ensureStream } from "../apps/lib/streams";
import { publish, PutRecordsSender } from "../apps/publisher/publisher";
import { subscribe } from "../apps/subscriber/subscriber";

const opts = new Command("bench")
  .addOption(new Option("--records <n>", "records for the publisher and subscriber").argParser(Number).default(20_000))
  .addOption(new Option("--baseline <n>", "records for the original example's approach").argParser(Number).default(2_000))
  .addOption(new Option("--shards <n>", "shards of the benchmark stream").argParser(Number).default(4))
  .addOption(new Option("--rtt <ms>", "round trip of the simulated sender").argParser(Number).default(20))
  .parse(process.argv)
  .opts<{ records: number; baseline: number; shards: number; rtt: number }>();

/** A sender that accepts everything after a fixed round trip, standing in for a real region. */
const simulatedSender = {
  async send(): Promise<unknown> {
    await new Promise((r) => setTimeout(r, opts.rtt));
    return { FailedRecordCount: 0, Records: undefined };
  },
};

async function simulated(): Promise<{ original: number; ours: number }> {
  const runId = newRunId();
  const originalCount = Math.max(100, Math.floor(2000 / opts.rtt));
  let t = Date.now();
  for (let i = 1; i <= originalCount; i++) await simulatedSender.send();
  const original = perSecond(originalCount, Date.now() - t);
  const sender: PutRecordsSender = {
    async send(cmd: PutRecordsCommand) {
      await new Promise((r) => setTimeout(r, opts.rtt));
      const records = (cmd.input.Records ?? []).map((_, i) => ({ SequenceNumber: String(i), ShardId: "s" }));
      return { $metadata: {}, FailedRecordCount: 0, Records: records };
    },
  };
  t = Date.now();
  const result = await publish(sender, "simulated", demoRecords(runId, opts.records * 10), {});
  return { original, ours: perSecond(result.sent, Date.now() - t) };
}

const perSecond = (n: number, ms: number) => (n * 1000) / Math.max(ms, 1);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<void> {
  const emulator = await startLocalKinesis();
  const client = createKinesisClient({ endpoint: emulator.endpoint });
  try {
    const stream = `bench-${Date.now()}`;
    await ensureStream(client, { name: stream, shards: opts.shards });
    const runId = newRunId();

    // Publish: the original approach.
    let t = Date.now();
    for (let i = 1; i <= opts.baseline; i++) {
      await client.send(new PutRecordCommand({ StreamName: stream, PartitionKey: "1", Data: encodeRecord(personRecord(runId, i)) }));
    }
    const baselineRate = perSecond(opts.baseline, Date.now() - t);

    // Publish: ours.
    t = Date.now();
    const published = await publish(client, stream, demoRecords(runId, opts.records), { total: opts.records });
    const oursRate = perSecond(published.sent, Date.now() - t);
    const total = opts.baseline + published.sent;

    // Subscribe: the original approach reads shard 0 only.
    t = Date.now();
    let it = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON" }))).ShardIterator;
    let shard0 = 0;
    for (;;) {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: it }));
      shard0 += out.Records?.length ?? 0;
      it = out.NextShardIterator;
      if (!it || (out.Records?.length ?? 0) === 0) break;
    }
    const shard0Ms = Date.now() - t;

    // Subscribe: ours.
    t = Date.now();
    const subscribed = await subscribe(client, stream, { from: { type: "trim-horizon" }, max: total, idleTimeoutMs: 30_000, write: () => undefined });
    const subscribeMs = Date.now() - t;

    // Memory: peak heap while publishing N vs 10*N records to a fresh stream.
    const peakHeap = async (count: number): Promise<number> => {
      const s = `bench-mem-${count}-${Date.now()}`;
      await ensureStream(client, { name: s, shards: opts.shards });
      global.gc?.();
      const base = process.memoryUsage().heapUsed;
      let peak = base;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
      await publish(client, s, demoRecords(runId, count), { total: count });
      clearInterval(timer);
      return Math.max(peak - base, 1);
    };
    const sim = await simulated();

    const small = Math.max(1000, Math.floor(opts.records / 10));
    const heapSmall = await peakHeap(small);
    const heapLarge = await peakHeap(small * 10);

    const lines = [
      `bench: kinesis-local, ${opts.shards} shards, node ${process.version}`,
      `publish    original (PutRecord x1, key "1"): ${fmt(baselineRate)} records/s over ${opts.baseline} records`,
      `publish    publisher (PutRecords, lanes):    ${fmt(oursRate)} records/s over ${published.sent} records, ${published.failed.count} failed`,
      `           ratio publisher/original:         ${(oursRate / baselineRate).toFixed(1)}x`,
      `subscribe  original (shard 0 only):          ${shard0} of ${total} records (${((100 * shard0) / total).toFixed(0)}%) in ${shard0Ms} ms`,
      `subscribe  subscriber (all shards):          ${subscribed.records} of ${total} records (${((100 * subscribed.records) / total).toFixed(0)}%) in ${subscribeMs} ms, ${fmt(perSecond(subscribed.records, subscribeMs))} records/s`,
      `latency    ${opts.rtt} ms round trip, original:          ${fmt(sim.original)} records/s`,
      `latency    ${opts.rtt} ms round trip, publisher:         ${fmt(sim.ours)} records/s over ${opts.records * 10} records`,
      `           ratio publisher/original:         ${(sim.ours / sim.original).toFixed(0)}x`,
      `memory     publisher peak heap growth:       ${(heapSmall / 2 ** 20).toFixed(1)} MiB for ${small} records, ${(heapLarge / 2 ** 20).toFixed(1)} MiB for ${small * 10}`,
      `           ratio 10x records / 1x records:   ${(heapLarge / heapSmall).toFixed(2)}x heap (bounded memory stays far below 10x)`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    client.destroy();
    await emulator.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
