/**
 * `npm run -s replay -- --segment A --from TIME --to TIME [--into B] [--filter PATTERN] [--dry-run] [--rate N]`:
 * republishes what a segment's archive holds for a time window, through the publisher's delivery core,
 * resuming from a checkpoint after an interruption. Prints a JSON summary on stdout, everything else on
 * stderr; exits 0 only when every record of every object was delivered.
 */
import { Command, Option } from "commander";
import * as path from "path";
import { parseCommand, wholeNumber } from "../lib/cli";
import { EXIT, runMain, UserError } from "../../runtime/errors";
import { addTargetOptions, resolveTarget, Target } from "../lib/target";
import { DATA_DIR, PROJECT_DIR } from "../../runtime/topology";
import { parseTimeFlag } from "../lib/time";
import { patternMatcherProblems } from "../../model/event-pattern";
import { checkSegmentAddress } from "../lib/address";
import { publish } from "../../runtime/producer/publisher";
import { formatReasons } from "../publisher/report";
import { ArchiveSource, resolveArchiveSource } from "./archive-source";
import { defaultCheckpointFile, loadCheckpoint, ReplayCheckpoint, ReplayIdentity, saveCheckpoint } from "./checkpoint";
import { replay, ReplayStoppedError, ReplaySummary } from "./replay";
import { startReplayProgress } from "./progress";

interface ReplayFlags {
  segment?: string;
  from: string;
  to: string;
  into?: string;
  filter?: string;
  keyField?: string;
  dryRun?: boolean;
  rate?: number;
  checkpoint?: string;
  restart?: boolean;
  allowSourceReplay?: boolean;
  onCorrupt: "skip" | "fail";
  archiveDir?: string;
  fromBackup?: boolean;
  concurrency: number;
  catalog?: string;
  endpoint?: string;
  region?: string;
}

export function buildProgram(): Command {
  const program = new Command("replay")
    .description("Republish a time window of a segment's archive into the same or another segment.")
    .addOption(new Option("--segment <address>", 'segment whose archive to read, "layer/segment"').makeOptionMandatory())
    .addOption(new Option("--from <time>", "window start, inclusive, ISO-8601 with a time zone (e.g. 2026-11-26T10:00:00Z)").makeOptionMandatory())
    .addOption(new Option("--to <time>", "window end, exclusive, ISO-8601 with a time zone").makeOptionMandatory())
    .addOption(new Option("--into <address>", "segment to publish into (default: --segment, which needs --allow-source-replay)"))
    .addOption(new Option("--filter <pattern>", "EventBridge content pattern (JSON); only matching records are replayed"))
    .addOption(new Option("--key-field <field>", "JSON field to use as partition key (default: spread)"))
    .addOption(new Option("--dry-run", "only count what would be replayed"))
    .addOption(new Option("--rate <n>", "records per second at most").argParser(wholeNumber(1, 1_000_000)))
    .addOption(new Option("--checkpoint <file>", "replay checkpoint (default: .datalake/replay/<segment>-to-<into>-<hash>.json)"))
    .addOption(new Option("--restart", "ignore an existing checkpoint and replay the whole window"))
    .addOption(new Option("--allow-source-replay", "allow --into to be the source segment (its archive then holds those records twice)"))
    .addOption(new Option("--on-corrupt <mode>", "a corrupt or truncated object is skipped (exit 1 at the end) or fails the run").choices(["skip", "fail"]).default("skip"))
    .addOption(new Option("--archive-dir <dir>", "folder holding one folder per bucket, e.g. .datalake/local/s3 (env DATALAKE_ARCHIVE_DIR)"))
    .addOption(new Option("--from-backup", "read the segment's replica in the backup region (the catalog's backup) instead of its bucket"))
    .addOption(new Option("--concurrency <n>", "PutRecords requests in flight").argParser(wholeNumber(1, 256)).default(8))
    .addOption(new Option("--catalog <file>", "catalog JSON from `pulumi stack output catalog --json` (env DATALAKE_CATALOG)"))
    .addOption(new Option("--endpoint <url>", "Kinesis endpoint URL (env AWS_ENDPOINT_URL_KINESIS or AWS_ENDPOINT_URL)"))
    .addOption(new Option("--region <region>", "AWS region (env AWS_REGION)"));
  return program.exitOverride();
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/** An ISO-8601 time read as every app reads times (apps/lib/time.ts: a time of day needs a zone). */
export function parseTime(flag: string, value: string): Date {
  return parseTimeFlag(flag, value, (message) => new UserError(`${message} (archive keys are in UTC)`));
}

function parseFilter(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UserError(`--filter is not JSON; write an EventBridge pattern such as '{"age":[{"numeric":[">=",18]}]}'`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value) || Object.keys(value).length === 0) {
    throw new UserError(`--filter must be a non-empty EventBridge pattern object, such as '{"age":[{"numeric":[">=",18]}]}'`);
  }
  const problems = patternMatcherProblems(value);
  if (problems.length > 0) throw new UserError(`--filter: ${problems[0][0].join(".")}: ${problems[0][1]}`);
  return value as Record<string, unknown>;
}

export function formatReplaySummary(s: ReplaySummary, dryRun: boolean): string {
  const lines = [
    `${dryRun ? "dry run: would replay" : "replayed"} ${dryRun ? s.matched : s.published} records from ${s.objects} objects in ${(s.durationMs / 1000).toFixed(1)} s`,
    `  objects: ${s.objects} in the window, ${s.objectsRead} read, ${s.corrupt.length} corrupt (skipped)`,
    `  records: ${s.recordsRead} read, ${s.matched} matched the filter, ${s.published} published, ${s.failed.count} failed${s.failed.count > 0 ? ` (${formatReasons(s.failed.reasons)})` : ""}`,
  ];
  if (s.resumedFrom) lines.push(`  resumed after record ${s.resumedFrom.index} of ${s.resumedFrom.key}`);
  if (s.keyFallbacks > 0) lines.push(`  ${s.keyFallbacks} records had no usable key field and were spread instead`);
  for (const key of s.corrupt) lines.push(`  corrupt object skipped: ${key}`);
  for (const key of s.recovered) lines.push(`  ${dryRun ? "would replay" : "replayed"} an object skipped as corrupt before: ${key}`);
  for (const key of s.missing) lines.push(`  skipped as corrupt before and no longer in the archive: ${key}`);
  if (s.windowOpen) lines.push("  the window has not ended: the checkpoint stays open, so the same command later replays what arrives in it");
  if (s.interrupted) lines.push("  interrupted: run the same command again to resume");
  return `${lines.join("\n")}\n`;
}

/** The one line of a run that leaves objects unreplayed: which, and the two ways out. */
function unreplayedMessage(s: ReplaySummary): string {
  const gone = s.missing.length > 0 ? `, ${s.missing.length} of them no longer in the archive` : "";
  return (
    `${s.unreplayed.length} corrupt object(s) skipped and not replayed (${s.unreplayed.join(", ")}${gone}); every other record was replayed: ` +
    `restore them (see "Recover" in docs/archive-and-backup.md) and run the same command again to replay just them, or pass --restart to replay the whole window again`
  );
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const done = parseCommand(program, argv);
  if (done !== undefined) return done;
  const flags = program.opts<ReplayFlags>();
  const segment = flags.segment as string;
  const into = flags.into ?? segment;
  checkSegmentAddress("--segment", segment);
  checkSegmentAddress("--into", into);
  const from = parseTime("--from", flags.from);
  const to = parseTime("--to", flags.to);
  if (to.getTime() <= from.getTime()) throw new UserError(`--to (${flags.to}) must be after --from (${flags.from})`);
  const now = new Date();
  if (from.getTime() > now.getTime()) {
    throw new UserError(`--from ${flags.from} is in the future (it is ${now.toISOString()} now): the archive holds nothing from then yet; choose a window that has begun`);
  }
  const filter = parseFilter(flags.filter);
  // A dry run checks everything the real run checks: it only leaves out the sending and the saving.
  if (into === segment && !flags.allowSourceReplay) {
    throw new UserError(
      `replaying ${segment} into itself would archive the same records a second time; choose another segment with --into, or pass --allow-source-replay if that is what you want`,
    );
  }

  const source = resolveArchiveSource(segment, flags);
  log(source.description);
  const identity: ReplayIdentity = {
    segment,
    into,
    from: from.toISOString(),
    to: to.toISOString(),
    filter: filter ? JSON.stringify(filter) : null,
    keyField: flags.keyField ?? null,
  };
  try {
    const checkpointFile = path.resolve(flags.checkpoint ?? defaultCheckpointFile(path.join(DATA_DIR, "replay"), identity));
    const state: ReplayCheckpoint = flags.restart ? { version: 1, replay: identity, published: 0 } : loadCheckpoint(checkpointFile, identity);
    if (to.getTime() > now.getTime()) {
      log(`note: the window ends in the future (--to ${flags.to}): this run replays what the archive holds now, and the same command run again later replays what arrives until then`);
    }
    if (state.completedAt && !state.skipped?.length) {
      log(`this replay completed at ${state.completedAt} (checkpoint ${checkpointFile}); nothing to do. Pass --restart to replay the window again.`);
      process.stdout.write(`${JSON.stringify({ ...(flags.dryRun ? { dryRun: true } : {}), alreadyCompleted: state.completedAt, published: 0 })}\n`);
      return EXIT.ok;
    }
    if (state.skipped?.length) {
      log(`an earlier run of this replay skipped ${state.skipped.length} corrupt object(s) (${state.skipped.join(", ")}): trying them again`);
    }
    log(
      `checkpoint: ${checkpointFile}${state.position ? ` (resuming after record ${state.position.index} of ${state.position.key})` : ""}` +
        (flags.dryRun ? " (a dry run reads it and saves nothing)" : ""),
    );

    const target = await resolveTarget({ segment: into, catalog: flags.catalog, endpoint: flags.endpoint, region: flags.region }, log);
    try {
      if (target.streamName === source.entry.streamName && !flags.allowSourceReplay) {
        throw new UserError(`--into ${into} is the stream of ${segment} itself; pass --allow-source-replay if that is what you want`);
      }
      if (flags.dryRun) {
        const summary = await replay({ store: source.store, from, to, now, filter, keyField: flags.keyField, dryRun: true, log, checkpoint: { state, save: () => undefined } });
        process.stderr.write(formatReplaySummary(summary, true));
        process.stdout.write(`${JSON.stringify({ dryRun: true, ...summary })}\n`);
        return summary.unreplayed.length > 0 ? EXIT.failed : EXIT.ok;
      }
      return await replayInto(target, source, state, checkpointFile, { flags, from, to, now, filter });
    } finally {
      await target.close();
    }
  } finally {
    source.close();
  }
}

/** The real run: replays into `target`, saving `state` in `checkpointFile`. */
async function replayInto(
  target: Target,
  source: ArchiveSource,
  state: ReplayCheckpoint,
  checkpointFile: string,
  run: { flags: ReplayFlags; from: Date; to: Date; now: Date; filter?: Record<string, unknown> },
): Promise<number> {
  const { flags } = run;
  const interrupt = new AbortController();
  const onSigint = () => {
    log("interrupted: finishing the batch in flight; run the same command again to resume");
    interrupt.abort();
  };
  process.once("SIGINT", onSigint);
  process.once("SIGTERM", onSigint);
  const progress = startReplayProgress();
  try {
    let summary: ReplaySummary;
    try {
      summary = await replay({
        store: source.store,
        from: run.from,
        to: run.to,
        now: run.now,
        filter: run.filter,
        keyField: flags.keyField,
        rate: flags.rate,
        onCorrupt: flags.onCorrupt,
        signal: interrupt.signal,
        log: (line) => progress.log(line),
        onProgress: (s) => progress.update(s),
        checkpoint: { state, save: (s) => saveCheckpoint(checkpointFile, s) },
        send: (records) => publish(target.client, target.streamName, records, { concurrency: flags.concurrency, total: records.length }),
      });
    } catch (err) {
      progress.stop();
      if (err instanceof ReplayStoppedError) throw new Error(err.message);
      throw err;
    }
    progress.stop();
    process.stderr.write(formatReplaySummary(summary, false));
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (summary.interrupted) throw new Error(`interrupted after ${summary.published} records; run the same command again to resume`);
    if (summary.unreplayed.length > 0) throw new Error(unreplayedMessage(summary));
    return EXIT.ok;
  } finally {
    progress.stop();
    process.removeListener("SIGINT", onSigint);
    process.removeListener("SIGTERM", onSigint);
  }
}

if (require.main === module) runMain(() => main(process.argv));
