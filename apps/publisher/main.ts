/**
 * `npm run publish-demo -- --segment ingest/persons --count 100000`: publishes demo person records
 * (`{"id":"<run>-<i>","name":"dennis <i>","age":<i>}`, one JSON object per line) and exits 0 only when
 * every record was delivered.
 */
import { Command, Option } from "commander";
import { parseCommand, wholeNumber, recordTimeoutOption } from "../lib/cli";
import { EXIT, runMain } from "../../runtime/errors";
import { demoRecords, newRunId } from "../../runtime/producer/records";
import { addTargetOptions, resolveTarget } from "../lib/target";
import { publish } from "../../runtime/producer/publisher";
import { formatSummary, startProgress, undeliveredReason } from "./report";

interface PublisherFlags {
  count: number;
  keys?: number;
  concurrency: number;
  recordTimeout: number;
  aggregate?: boolean;
  pacing: boolean;
  stream?: string;
  segment?: string;
  catalog?: string;
  endpoint?: string;
  region?: string;
}

export function buildProgram(): Command {
  const program = new Command("publish-demo")
    .description("Publish demo person records to a data segment's Kinesis stream.")
    .addOption(new Option("--count <n>", "records to publish").argParser(wholeNumber(1, Number.MAX_SAFE_INTEGER)).default(1000))
    .addOption(
      new Option("--keys <n>", "cycle over N partition keys instead of one key per record (the record id)").argParser(
        wholeNumber(1, 1_000_000_000),
      ),
    )
    .addOption(new Option("--concurrency <n>", "PutRecords requests in flight").argParser(wholeNumber(1, 256)).default(8))
    .addOption(recordTimeoutOption())
    .addOption(new Option("--aggregate", "pack records into KPL aggregated records (readers de-aggregate); for many small records"))
    .addOption(new Option("--no-pacing", "do not pace writes per shard (no ListShards)"));
  return addTargetOptions(program).exitOverride();
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const done = parseCommand(program, argv);
  if (done !== undefined) return done;
  const flags = program.opts<PublisherFlags>();
  const target = await resolveTarget(flags, log);
  const interrupt = new AbortController();
  const progress = startProgress(flags.count);
  // While the bar is drawn, lines go above it through the bar (a direct write would be drawn over).
  const onSigint = () => {
    progress.log("interrupted: finishing the records already taken; press Ctrl-C again to quit at once");
    interrupt.abort();
  };
  process.once("SIGINT", onSigint);
  try {
    const runId = newRunId();
    log(`publishing ${flags.count} records (ids ${runId}-1..${flags.count}) with ${flags.concurrency} requests in flight`);
    const summary = await publish(target.client, target.streamName, demoRecords(runId, flags.count, flags.keys), {
      concurrency: flags.concurrency,
      recordTimeoutMs: flags.recordTimeout * 1000,
      aggregate: flags.aggregate,
      pacing: flags.pacing,
      log: (line) => progress.log(line),
      total: flags.count,
      onProgress: (sent) => progress.update(sent),
      signal: interrupt.signal,
    });
    progress.stop();
    process.stderr.write(formatSummary(summary, flags.count));
    const reason = undeliveredReason(summary, flags.count);
    if (reason) throw new Error(reason);
    return EXIT.ok;
  } finally {
    progress.stop();
    process.removeListener("SIGINT", onSigint);
    await target.close();
  }
}

if (require.main === module) runMain(() => main(process.argv));
