/** Section 4: the subscriber's drain rate through the read limits, and its latency publish -> stdout. */
import { DescribeStreamConsumerCommand, DescribeStreamSummaryCommand, RegisterStreamConsumerCommand } from "@aws-sdk/client-kinesis";
import { spawn } from "child_process";
import * as path from "path";
import { createKinesisClient } from "../../runtime/client";
import { demoRecords, encodeRecord, newRunId } from "../../runtime/producer/records";
import { ensureStream } from "../../runtime/streams";
import { publish } from "../../runtime/producer/publisher";
import { subscribe } from "../../runtime/consumer/engine";
import { startLocalKinesis } from "../../local/kinesis";
import { spawnLimitsEndpoint } from "../../testkit/limits-endpoint";
import { quick } from "./options";
import { fmt, say } from "./report";

/**
 * Publishes `count` records one by one at 20/s into a fresh 2-shard stream while the subscriber CLI reads
 * it through `readEndpoint` (with `args`), and returns the latency percentiles from send to stdout.
 */
async function latency(
  direct: ReturnType<typeof createKinesisClient>,
  readEndpoint: string,
  count: number,
  args: string[],
): Promise<{ got: number; p50: number; p99: number }> {
  const lat = `latency-${Date.now()}`;
  await ensureStream(direct, { name: lat, shards: 2 });
  if (args[0] === "--consumer") {
    const { StreamDescriptionSummary } = await direct.send(new DescribeStreamSummaryCommand({ StreamName: lat }));
    const arn = StreamDescriptionSummary!.StreamARN!;
    await direct.send(new RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: args[1] }));
    for (let i = 0; i < 100; i++) {
      const d = await direct.send(new DescribeStreamConsumerCommand({ StreamARN: arn, ConsumerName: args[1] }));
      if (d.ConsumerDescription?.ConsumerStatus === "ACTIVE") break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const child = spawn(
    process.execPath,
    ["scripts/run-ts.js", "apps/subscriber/main.ts", "--stream", lat, "--from", "trim-horizon", "--max", String(count), ...args],
    { cwd: path.join(__dirname, "..", ".."), env: { ...process.env, AWS_ENDPOINT_URL_KINESIS: readEndpoint, KINESIS_STREAM_NAME: "" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const latencies: number[] = [];
  let buf = "";
  child.stdout.on("data", (c: Buffer) => {
    buf += c.toString();
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        latencies.push(Date.now() - (JSON.parse(line) as { sentAt: number }).sentAt);
      } catch {
        // not ours
      }
    }
  });
  let exited = false;
  const done = new Promise<void>((resolve) => child.on("close", () => ((exited = true), resolve())));
  await new Promise((r) => setTimeout(r, 4000)); // let it start reading
  if (exited) throw new Error(stderr.trim().split("\n").pop() ?? "the subscriber exited");
  for (let i = 0; i < count; i++) {
    await publish(direct, lat, [{ data: encodeRecord({ i, sentAt: Date.now() }), partitionKey: `k${i}` }], { pacing: false });
    await new Promise((r) => setTimeout(r, 50));
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 30_000))]);
  child.kill();
  if (latencies.length === 0) throw new Error(stderr.trim().split("\n").pop() ?? "no records read");
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { got: latencies.length, p50: q(0.5), p99: q(0.99) };
}

/** 4. The subscriber: drain rate through the read limits, and latency publish -> stdout. */
export async function subscriber(): Promise<void> {
  say("## 4. Subscriber: drain rate and end-to-end latency");
  say();
  const emulator = await startLocalKinesis();
  const direct = createKinesisClient({ endpoint: emulator.endpoint });
  const ep = await spawnLimitsEndpoint({ backend: emulator.endpoint });
  const client = createKinesisClient({ endpoint: ep.endpoint });
  try {
    const shards = 4;
    const n = quick ? 6000 : 20_000;
    const stream = `drain-${Date.now()}`;
    await ensureStream(direct, { name: stream, shards });
    const filled = await publish(direct, stream, demoRecords(newRunId(), n), { total: n });
    let t = Date.now();
    const drained = await subscribe(client, stream, { from: { type: "trim-horizon" }, max: filled.sent, idleTimeoutMs: 30_000, write: () => undefined });
    const drainMs = Date.now() - t;
    const st = await ep.stats(stream);
    say(`- drain: ${fmt(drained.records)} of ${fmt(filled.sent)} records from ${shards} shards (kinesis-local behind the read limits) in ${(drainMs / 1000).toFixed(1)} s: ${fmt((drained.records * 1000) / drainMs)} records/s; ${st.getRecordsCalls} GetRecords calls, ${st.getRecordsThrottled} throttled`);

    // Latency: the subscriber CLI on stdout, records published one by one at 20/s carrying their send time.
    const count = quick ? 100 : 300;
    const polling = await latency(direct, ep.endpoint, count, []);
    say(`- latency publish → line on stdout, polling (GetRecords at most 5/s per shard, 1 s pause at the tip), ${polling.got} of ${count} records at 20/s: p50 ${polling.p50} ms, p99 ${polling.p99} ms`);
    try {
      const fanOut = await latency(direct, emulator.endpoint, count, ["--consumer", "bench-efo"]);
      say(`- latency with \`--consumer\` (enhanced fan-out, SubscribeToShard straight to kinesis-local, which has no read limits), ${fanOut.got} of ${count} records: p50 ${fanOut.p50} ms, p99 ${fanOut.p99} ms`);
    } catch (err) {
      say(`- latency with \`--consumer\` (enhanced fan-out): not measured (${(err as Error).message})`);
    }
  } finally {
    client.destroy();
    direct.destroy();
    await ep.stop();
    await emulator.stop();
  }
  say();
}
