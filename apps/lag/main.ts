/**
 * `npm run -s lag -- --segment A (--checkpoint FILE | --group NAME | --consumer NAME) [--json]`: how far a
 * consumer is behind, per shard. With a subscriber's checkpoint, or a consumer group's lease table (its
 * checkpoint per shard): records and time behind for every shard, on AWS and on the local lake. With an enhanced fan-out consumer (AWS only): the time behind from CloudWatch.
 * The table (or JSON lines with --json) goes to stdout; the target and a summary go to stderr.
 */
import * as fs from "fs";
import { DescribeStreamSummaryCommand } from "@aws-sdk/client-kinesis";
import { Command, Option } from "commander";
import { parseCommand, wholeNumber } from "../lib/cli";
import { EXIT, runMain, UserError } from "../../runtime/errors";
import { isLoopbackEndpoint } from "../../runtime/client";
import { addTargetOptions, resolveTarget } from "../lib/target";
import { parseCheckpoint } from "../../runtime/consumer/checkpoint";
import { consumerLag, createMetricsClient } from "./consumer";
import { checkpointLag, formatDuration, formatTable } from "./lag";
import { groupPositions } from "../lib/group";

const log = (line: string) => process.stderr.write(`${line}\n`);

interface LagFlags {
  stream?: string;
  segment?: string;
  catalog?: string;
  endpoint?: string;
  region?: string;
  checkpoint?: string;
  consumer?: string;
  group?: string;
  json?: boolean;
  maxRecords: number;
}

function readCheckpoint(file: string) {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`--checkpoint ${file}: ${code === "ENOENT" ? "no such file" : `cannot read it (${(err as Error).message})`}; give the file the subscriber was run with`);
  }
  const data = parseCheckpoint(text);
  if (!data) throw new UserError(`--checkpoint ${file} is not a subscriber checkpoint (expected {"version":1,"stream":...,"shards":{...}})`);
  return data;
}

async function main(argv: string[]): Promise<number> {
  const program = addTargetOptions(new Command("lag"))
    .description("How far a consumer is behind, per shard")
    .addOption(new Option("--checkpoint <file>", "a subscriber's checkpoint file (npm run subscribe -- --checkpoint FILE)"))
    .addOption(new Option("--consumer <name>", "an enhanced fan-out consumer of the segment (AWS only)"))
    .addOption(new Option("--group <name>", "a consumer group of the segment: its checkpoint per shard from its lease table (npm run subscribe -- --group NAME)"))
    .addOption(new Option("--json", "one JSON object per shard instead of the table"))
    .addOption(new Option("--max-records <n>", "stop counting a shard's backlog after N records").argParser(wholeNumber(1, 10_000_000)).default(100_000))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const done = parseCommand(program, argv);
  if (done !== undefined) return done;
  const flags = program.opts<LagFlags>();
  if ([flags.checkpoint, flags.consumer, flags.group].filter((v) => v !== undefined).length !== 1) {
    throw new UserError("give exactly one of --checkpoint FILE (a subscriber's checkpoint), --group NAME (a consumer group) or --consumer NAME (an enhanced fan-out consumer)");
  }
  const checkpoint = flags.checkpoint !== undefined ? readCheckpoint(flags.checkpoint) : undefined;

  const target = await resolveTarget(flags, log);
  try {
    if (flags.group !== undefined) {
      const { shards, owners, tableName } = await groupPositions(target, flags.group, flags.segment);
      const lags = await checkpointLag(target.client, target.streamName, shards, { maxRecords: flags.maxRecords });
      if (flags.json) for (const l of lags) process.stdout.write(`${JSON.stringify({ ...l, owner: owners[l.shardId] ?? null })}\n`);
      else process.stdout.write(`${formatTable(lags)}\n`);
      const total = lags.reduce((n, l) => n + (l.recordsBehind ?? 0), 0);
      const exact = lags.every((l) => l.exact || l.status === "gone");
      const oldest = Math.max(0, ...lags.map((l) => l.millisBehind ?? 0));
      const held = new Set(Object.values(owners).filter((o) => o !== undefined)).size;
      log(
        `lag: group ${flags.group} (lease table ${tableName}, ${held} worker(s) holding leases), ${lags.length} shards of ${target.streamName}; ` +
          `${exact ? "" : "at least "}${total} records behind, oldest unread record ${formatDuration(oldest)} old`,
      );
      return EXIT.ok;
    }
    if (checkpoint) {
      if (checkpoint.stream !== target.streamName) {
        throw new UserError(`--checkpoint ${flags.checkpoint} belongs to stream "${checkpoint.stream}", not "${target.streamName}"; give that stream's segment or its own checkpoint`);
      }
      const savedArn = (checkpoint as { streamArn?: string }).streamArn;
      if (savedArn) {
        const summary = await target.client.send(new DescribeStreamSummaryCommand({ StreamName: target.streamName }));
        const arn = summary.StreamDescriptionSummary?.StreamARN;
        if (arn && arn !== savedArn) {
          throw new UserError(`--checkpoint ${flags.checkpoint} was written for an earlier stream named "${target.streamName}" (${savedArn}); its positions mean nothing in the current one`);
        }
      }
      const lags = await checkpointLag(target.client, target.streamName, checkpoint.shards, { maxRecords: flags.maxRecords });
      if (flags.json) for (const l of lags) process.stdout.write(`${JSON.stringify(l)}\n`);
      else process.stdout.write(`${formatTable(lags)}\n`);
      const total = lags.reduce((n, l) => n + (l.recordsBehind ?? 0), 0);
      const exact = lags.every((l) => l.exact || l.status === "gone");
      const oldest = Math.max(0, ...lags.map((l) => l.millisBehind ?? 0));
      log(`lag: ${lags.length} shards of ${target.streamName}; ${exact ? "" : "at least "}${total} records behind, oldest unread record ${formatDuration(oldest)} old`);
      return EXIT.ok;
    }
    if (target.local || isLoopbackEndpoint(target.endpoint)) {
      throw new UserError(
        `--consumer ${flags.consumer}: the local lake has no CloudWatch, and Kinesis keeps no position for an enhanced fan-out consumer, so its lag is not known here; use --checkpoint FILE of that consumer`,
      );
    }
    const metrics = createMetricsClient(flags.region ?? (await target.client.config.region()));
    try {
      // One deadline for the whole lookup: three calls, each also bounded by its client.
      const lag = await consumerLag(target.client, metrics, target.streamName, flags.consumer!, { signal: AbortSignal.timeout(60_000) });
      if (flags.json) process.stdout.write(`${JSON.stringify({ ...lag, recordsBehind: null })}\n`);
      else {
        process.stdout.write(
          `consumer ${lag.consumer} (${lag.status}): ${lag.millisBehind === undefined ? "no data in the last " + lag.windowMinutes + " min" : `${formatDuration(lag.millisBehind)} behind at ${lag.at}`}; records behind: unknown\n`,
        );
      }
      log(
        "lag: from CloudWatch SubscribeToShardEvent.MillisBehindLatest (Maximum per minute over all shards); Kinesis keeps no per-shard position for a fan-out consumer, so records behind are not known",
      );
      return EXIT.ok;
    } finally {
      metrics.destroy();
    }
  } finally {
    await target.close();
  }
}

runMain(() => main(process.argv));
