/**
 * `npm run demo`: the whole lake on this machine, no AWS account needed. A script over the same local lake
 * `npm run local-lake` runs (local/lake.ts: streams under the deployed physical names, a wire-tap per
 * segment, a processor per route), started in memory in a folder of its own under `--out`: publishes demo
 * records, subscribes to them, waits for the routes and wire-taps, and prints what happened. Exits 0 only
 * when nothing was lost.
 */
import { Command, Option } from "commander";
import * as fs from "fs";
import * as path from "path";
import { parseCommand, wholeNumber } from "../lib/cli";
import { EXIT, runMain, UserError } from "../../runtime/errors";
import { localBucketDir, startLocalLake } from "../../local/lake";
import { demoRecords, newRunId, personRecord } from "../../runtime/producer/records";
import { DATA_DIR, localStackName, PROJECT_DIR, stackFile } from "../../runtime/topology";
import { checkSegmentAddress } from "../lib/address";
import { publish } from "../../runtime/producer/publisher";
import { subscribe } from "../../runtime/consumer/engine";
import type { LocalProcessor } from "../../local/processor";
import { readWireTapRecords } from "../../local/firehose";
import { recordPassesFilter } from "../../model/processor/filter";

interface DemoFlags {
  count: number;
  segment?: string;
  stack: string;
  out: string;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

export function buildProgram(): Command {
  return new Command("demo")
    .description("Run the whole data lake locally: emulator, publish, subscribe, routes, wire-tap, summary.")
    .addOption(new Option("--count <n>", "demo records to publish").argParser(wholeNumber(1, 1_000_000)).default(5000))
    .addOption(new Option("--segment <address>", "segment to publish to (default: the first segment of the topology)"))
    .addOption(new Option("--stack <name>", "stack whose topology to run (Pulumi.<name>.yaml)").default(localStackName()))
    .addOption(new Option("--out <dir>", "folder under which each run writes its wire-tap output, in a new subfolder named for the run").default(path.join(DATA_DIR, "demo")))
    .exitOverride();
}

/** Waits until `done()` or the timeout; true when done. */
async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const rate = (n: number, ms: number) => `${Math.round((n * 1000) / Math.max(ms, 1)).toLocaleString("en-US")} records/s`;

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const done = parseCommand(program, argv);
  if (done !== undefined) return done;
  const flags = program.opts<DemoFlags>();
  const started = Date.now();
  // Checked before the run's folder is made, so a typo leaves nothing behind.
  stackFile(flags.stack);
  if (flags.segment !== undefined) checkSegmentAddress("--segment", flags.segment);
  // Each run gets its own folder under --out, so two demos at once never share (or delete) each other's
  // objects, and nothing the user had in --out is touched.
  const runId = newRunId();
  const out = path.resolve(flags.out);
  const runDir = path.join(out, runId);
  fs.mkdirSync(runDir, { recursive: true });

  log(`demo: starting the local lake (streams, wire-taps, routes) with the topology of Pulumi.${flags.stack}.yaml; output in ${path.relative(process.cwd(), runDir) || runDir}`);
  const lake = await startLocalLake({ stack: flags.stack, dataDir: runDir, persist: false, services: "all", log });
  try {
    const { config, catalog, client } = lake;
    const address = flags.segment ?? config.segments[0].address;
    const entry = catalog[address];
    if (!entry) throw new UserError(`unknown segment "${address}"; known segments: ${Object.keys(catalog).join(", ")}`);
    const taps = lake.wireTaps;
    const routers = lake.routes;

    // Publish.
    log(`demo: publishing ${flags.count} demo records to ${address} (stream ${entry.streamName})`);
    const published = await publish(client, entry.streamName, demoRecords(runId, flags.count), { total: flags.count });

    // Subscribe, as a separate consumer would, and check that every record arrived exactly once.
    log(`demo: subscribing to ${address} from trim-horizon`);
    const seen = new Set<string>();
    let received = 0;
    const subscribed = await subscribe(client, entry.streamName, {
      from: { type: "trim-horizon" },
      max: published.sent,
      idleTimeoutMs: 30_000,
      emptyReadPauseMs: 200,
      write: (record) => {
        received++;
        const value = JSON.parse(Buffer.from(record.Data ?? new Uint8Array()).toString("utf8")) as { id?: string };
        if (value.id?.startsWith(`${runId}-`)) seen.add(value.id);
      },
    });

    // Routes and wire-taps run concurrently; wait until they have caught up.
    const expectedRouted = new Map<LocalProcessor, number>();
    for (const router of routers) {
      let n = 0;
      // An aggregating route writes window results, not records: it is not counted here.
      if (router.route.from === address && !router.route.aggregate) {
        // The route's filter as the handler applies it (the demo's records are plain JSON, not aggregates).
        for (let i = 1; i <= flags.count; i++) if (recordPassesFilter(router.route.filter, Buffer.from(JSON.stringify(personRecord(runId, i))))) n++;
      }
      expectedRouted.set(router, n);
    }
    const expectedTapped = (a: string) =>
      (a === address ? published.sent : 0) +
      routers.filter((r) => r.route.to === a).reduce((sum, r) => sum + (expectedRouted.get(r) ?? 0), 0);
    await waitFor(
      () =>
        routers.every((r) => r.stats.forwarded >= (expectedRouted.get(r) ?? 0)) &&
        [...taps].every(([a, firehose]) => firehose.tap.stats.records >= expectedTapped(a)),
      30_000,
    );
    // Stopping the lake stops the routes, then writes what the wire-taps still buffer.
    await lake.stop();

    // Report.
    const lost = published.sent - seen.size;
    const duplicates = received - seen.size;
    const lines = [
      "",
      "demo summary",
      `  published   ${published.sent} of ${flags.count} records to ${address} in ${(published.durationMs / 1000).toFixed(1)} s (${rate(published.sent, published.durationMs)}), ${published.failed.count} failed, ${published.retries.resentRecords} resent`,
      `  subscribed  ${seen.size} distinct records from ${subscribed.shardsRead} shards: ${lost} lost, ${duplicates} duplicates`,
    ];
    let ok = published.failed.count === 0 && lost === 0;
    for (const router of routers) {
      const expected = expectedRouted.get(router) ?? 0;
      const filter = router.route.filter ? `filter ${JSON.stringify(router.route.filter)}` : "no filter";
      lines.push(`  routed      ${router.stats.forwarded} records ${router.route.from} -> ${router.route.to} (${filter}), expected ${expected}`);
      ok &&= router.stats.forwarded === expected && router.stats.failed === 0;
    }
    for (const segment of config.segments) {
      const tap = taps.get(segment.address)!.tap;
      const bucketDir = localBucketDir(runDir, catalog[segment.address].bucketName);
      const stored = readWireTapRecords(bucketDir).length;
      const expected = expectedTapped(segment.address);
      const where = path.relative(process.cwd(), bucketDir) || bucketDir;
      lines.push(`  wire-tap    ${segment.address}: ${stored} records in ${plural(tap.stats.objects.length, "object")} under ${where}/ (expected ${expected})`);
      ok &&= stored === expected;
    }
    lines.push(`  result      ${ok ? "OK: every record arrived, nothing lost" : "FAILED: records are missing (see above)"} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.stdout.write(`${lines.join("\n")}\n`);
    return ok ? EXIT.ok : EXIT.failed;
  } finally {
    await lake.stop(); // safe to call twice
  }
}

if (require.main === module) runMain(() => main(process.argv));
