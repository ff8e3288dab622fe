/**
 * `npm run bench` (`-- --quick` for a shorter run): the apps at Kinesis's limits, measured side by side in
 * one run against the project's limit-enforcing local endpoint (testkit/limits-endpoint/, in its own
 * process so it does not share a CPU with the client being measured), and written to bench/RESULTS.md
 * with the machine's description.
 *
 *   1 capacity      the publisher against the per-shard write limits (1,000 records/s, 1 MiB/s) on 1, 4
 *                   and 16 shards: share of the stream's capacity, throttled entries, lost records, and
 *                   the per-key order the endpoint saw
 *   2 aggregation   ~100-byte records packed in KPL aggregated records: share of the byte limit
 *   3 ceiling       one publisher process against an endpoint that accepts everything (start-up included),
 *                   CPU time per record, beside the SDK alone sending pre-built requests
 *   4 subscriber    drain rate of a pre-filled stream through the read limits; latency publish -> stdout
 *   5 local lake    publish rate on an empty emulator vs one holding several MB
 *   6 program       lakes of N segments under Pulumi mocks vs bare resources and vs the same resources flat
 *                   (bench/program-scale.ts)
 *   7 groups        consumer group worker processes on 16 shards: kill -9 to the last orphaned shard read
 *                   again, a joining worker to a balanced group, and the lease table's DynamoDB requests
 *                   and units per shard per minute for 1, 4 and 16 workers (bench/main/groups.ts)
 */
import * as fs from "fs";
import * as path from "path";
import { durability } from "./local-lake-durability";
import { only, opts, quick } from "./main/options";
import { lines, machine, say } from "./main/report";
import { aggregation, capacity, ceiling } from "./main/publisher";
import { subscriber } from "./main/subscriber";
import { localLake } from "./main/local-lake";
import { program } from "./main/program";
import { groups } from "./main/groups";

const outFile = opts.out ?? path.join(__dirname, quick ? "RESULTS.quick.md" : "RESULTS.md");

async function main(): Promise<void> {
  const started = Date.now();
  say(`# Benchmark results (${quick ? "npm run bench -- --quick" : "npm run bench"})`);
  say();
  say(machine());
  say();
  if (only.has("capacity")) await capacity();
  if (only.has("aggregation")) await aggregation();
  if (only.has("ceiling")) await ceiling();
  if (only.has("subscriber")) await subscriber();
  if (only.has("lake")) await localLake();
  if (only.has("durability")) await durability({ say, quick });
  if (only.has("program")) await program();
  if (only.has("groups")) await groups();
  say(`Total bench time: ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  const notes = path.join(__dirname, "NOTES.md");
  const extra = fs.existsSync(notes) ? `\n${fs.readFileSync(notes, "utf8")}` : "";
  fs.writeFileSync(outFile, `${lines.join("\n")}\n${extra}`);
  process.stderr.write(`bench: wrote ${outFile}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
