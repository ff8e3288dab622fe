/**
 * `npm run -s publish -- --segment ingest/persons [--key-field id] [--file records.jsonl [--resume]] [--raw]`:
 * publishes each line of stdin (or of the file) as one record through the publisher's delivery core, and
 * exits 0 only when every line was delivered. Lines must be UTF-8 JSON objects unless `--raw`. Ctrl-C
 * finishes the records already taken and says where a `--file` run stopped; `--resume` goes on from there.
 */
import { Command, Option } from "commander";
import { createReadStream, rmSync, statSync } from "fs";
import * as path from "path";
import { parseCommand, wholeNumber, recordTimeoutOption } from "../lib/cli";
import { EXIT, runMain, UserError } from "../../runtime/errors";
import { newRunId } from "../../runtime/producer/records";
import { addTargetOptions, resolveTarget } from "../lib/target";
import { PROJECT_DIR } from "../../runtime/topology";
import { publish, PublishSummary } from "../../runtime/producer/publisher";
import { formatReasons, formatSummary, startProgress, undeliveredReason } from "../publisher/report";
import {
  defaultPublishCheckpointFile,
  loadPublishCheckpoint,
  prefixHash,
  PublishCheckpoint,
  PublishIdentity,
  savePublishCheckpoint,
} from "./checkpoint";
import { checkLines, lastTakenLine, LineOptions, LineProblem, newRecordsState, numberedLines, recordsOf } from "./lines";

interface PublishFlags {
  file?: string;
  keyField?: string;
  raw?: boolean;
  resume?: boolean;
  restart?: boolean;
  checkpoint?: string;
  concurrency: number;
  recordTimeout: number;
  stream?: string;
  segment?: string;
  catalog?: string;
  endpoint?: string;
  region?: string;
}

export function buildProgram(): Command {
  const program = new Command("publish")
    .description("Publish each line of stdin (or --file) as one record to a data segment's Kinesis stream.")
    .addOption(new Option("--file <file>", "read lines from this file instead of stdin (checked whole before anything is sent)"))
    .addOption(new Option("--key-field <field>", "JSON field whose value is the partition key (default: keys spread over the shards)"))
    .addOption(new Option("--raw", "publish each line's bytes as they are, JSON or not (default: lines must be UTF-8 JSON objects)"))
    .addOption(new Option("--resume", "with --file: go on from the line an interrupted run (Ctrl-C) stopped at"))
    .addOption(new Option("--restart", "with --file: publish the whole file, forgetting where an interrupted run stopped").conflicts("resume"))
    .addOption(new Option("--checkpoint <file>", "where --file remembers an interrupted run (default: .datalake/publish/<file>-<hash>.json)"))
    .addOption(new Option("--concurrency <n>", "PutRecords requests in flight").argParser(wholeNumber(1, 256)).default(8))
    .addOption(recordTimeoutOption());
  return addTargetOptions(program).exitOverride();
}

const log = (line: string) => process.stderr.write(`${line}\n`);

const describeProblem = (p: LineProblem, source: string) => `line ${p.line} of ${source} ${p.message}`;

/** Where a `--file` run starts and what it remembers. */
interface FileRun {
  file: string;
  checkpointFile: string;
  identity: PublishIdentity;
  saved?: PublishCheckpoint;
  startLine: number;
  startOffset: number;
  /** Records from the start line on. */
  total: number;
}

/** Checks the whole file (from where a resumed run starts) before anything is sent. */
async function planFile(file: string, flags: PublishFlags, lineOptions: LineOptions): Promise<FileRun> {
  try {
    if (!statSync(file).isFile()) throw new Error("not a file");
  } catch {
    throw new UserError(`--file ${file} cannot be read; check the path`);
  }
  const identity: PublishIdentity = {
    file: path.resolve(file),
    target: flags.stream ? `--stream ${flags.stream}` : process.env.KINESIS_STREAM_NAME ? `KINESIS_STREAM_NAME=${process.env.KINESIS_STREAM_NAME}` : `--segment ${flags.segment ?? "(default)"}`,
    keyField: flags.keyField ?? null,
    raw: Boolean(flags.raw),
  };
  const checkpointFile = path.resolve(flags.checkpoint ?? defaultPublishCheckpointFile(path.join(PROJECT_DIR, ".datalake", "publish"), identity));
  const saved = flags.restart ? undefined : loadPublishCheckpoint(checkpointFile, identity);
  if (saved && !flags.resume) {
    throw new UserError(
      `an earlier run publishing ${file} was interrupted before line ${saved.nextLine} (checkpoint ${checkpointFile}); pass --resume to publish from line ${saved.nextLine} on, or --restart to publish the whole file again`,
    );
  }
  if (!saved && flags.resume) {
    throw new UserError(`--resume: no interrupted run of ${file} to resume (no checkpoint ${checkpointFile}); run without --resume to publish the whole file`);
  }
  if (saved && (await prefixHash(file, saved.offset)) !== saved.prefixSha256) {
    throw new UserError(`${file} changed since the interrupted run (its first ${saved.nextLine - 1} lines are not the ones published); pass --restart to publish the whole file again`);
  }
  const startLine = saved?.nextLine ?? 1;
  const startOffset = saved?.offset ?? 0;
  const check = await checkLines(numberedLines(createReadStream(file, { start: startOffset }), startLine, startOffset), lineOptions);
  if (check.problems.length > 0) {
    const more = check.problems.length === 5 ? " (first 5 problems)" : "";
    throw new UserError(`nothing was published: ${check.problems.map((p) => describeProblem(p, file)).join("; ")}${more}`);
  }
  if (saved) log(`resuming ${file} at line ${startLine} (checkpoint ${checkpointFile}; ${saved.published} records were published before)`);
  return { file, checkpointFile, identity, saved, startLine, startOffset, total: check.records };
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const done = parseCommand(program, argv);
  if (done !== undefined) return done;
  const flags = program.opts<PublishFlags>();
  const source = flags.file ?? "stdin";
  const lineOptions: LineOptions = { keyField: flags.keyField, keyPrefix: newRunId(), raw: flags.raw };
  if (!flags.file && (flags.resume || flags.restart || flags.checkpoint !== undefined)) {
    throw new UserError(`--${flags.resume ? "resume" : flags.restart ? "restart" : "checkpoint"} needs --file: stdin cannot be read again`);
  }

  const fileRun = flags.file ? await planFile(flags.file, flags, lineOptions) : undefined;
  if (!fileRun && process.stdin.isTTY) log("reading records from the terminal, one per line; end with Ctrl-D (or pass --file)");

  const target = await resolveTarget(flags, log);
  const progress = fileRun ? startProgress(fileRun.total) : undefined;
  const say = (line: string) => (progress ? progress.log(line) : log(line));
  const interrupt = new AbortController();
  let signal: NodeJS.Signals | undefined;
  const onSignal = (name: NodeJS.Signals) => {
    signal ??= name;
    say("interrupted: finishing the records already taken (Ctrl-C again quits at once, and the file's checkpoint then stays where it was)");
    interrupt.abort();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const state = newRecordsState();
    const lines = fileRun
      ? numberedLines(createReadStream(fileRun.file, { start: fileRun.startOffset }), fileRun.startLine, fileRun.startOffset)
      : numberedLines(process.stdin);
    log(
      `publishing the lines of ${source}${fileRun && fileRun.startLine > 1 ? ` from line ${fileRun.startLine}` : ""}, one record each` +
        `${flags.raw ? " (raw)" : ""}${flags.keyField ? `, partition key from field "${flags.keyField}"` : ""}`,
    );
    const summary = await publish(target.client, target.streamName, recordsOf(lines, lineOptions, state), {
      concurrency: flags.concurrency,
      recordTimeoutMs: flags.recordTimeout * 1000,
      total: fileRun?.total,
      onProgress: (sent) => progress?.update(sent),
      signal: interrupt.signal,
    });
    progress?.stop();
    const requested = fileRun?.total ?? summary.records;
    process.stderr.write(formatSummary(summary, requested));
    if (state.skipped > 0) log(`  skipped: ${state.skipped} empty lines`);
    if (state.problem) {
      const reason = undeliveredReason(summary, summary.records);
      throw new UserError(
        `stopped: ${describeProblem(state.problem, source)}; the ${summary.sent} records before it were delivered${reason ? ` (${reason})` : ""}`,
      );
    }
    if (summary.interrupted) return await interrupted(summary, state, fileRun, signal ?? "SIGINT");
    const reason = undeliveredReason(summary, requested);
    if (reason) throw new Error(reason);
    // The whole file is published: nothing is left to resume.
    if (fileRun?.saved) rmSync(fileRun.checkpointFile, { force: true });
    return EXIT.ok;
  } finally {
    progress?.stop();
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await target.close();
  }
}

/**
 * An interrupted run: every record it took was delivered (or it says how many were not), and a `--file`
 * run saves the line to go on from. Exit 128 + the signal's number (130 for Ctrl-C), as shells do.
 */
async function interrupted(summary: PublishSummary, state: ReturnType<typeof newRecordsState>, fileRun: FileRun | undefined, signal: NodeJS.Signals): Promise<number> {
  const code = signal === "SIGTERM" ? 143 : EXIT.interrupted;
  const last = lastTakenLine(state, summary.records);
  if (summary.failed.count > 0 || summary.sent < summary.records) {
    // Which of the records taken were lost is not known by line: the checkpoint stays where it was.
    throw new Error(
      `interrupted, and ${summary.records - summary.sent} of the ${summary.records} records taken could not be delivered (${formatReasons(summary.failed.reasons)})` +
        (fileRun ? `; ${fileRun.saved ? `the checkpoint still says line ${fileRun.startLine}` : "nothing was saved to resume from"}, so a resumed run sends this run's records again` : ""),
    );
  }
  if (!fileRun) {
    log(`interrupted after line ${last?.lineNo ?? 0} of stdin: its ${summary.sent} records were delivered, the lines after it were not published`);
    return code;
  }
  const nextLine = last ? last.lineNo + 1 : fileRun.startLine;
  const offset = last ? last.end : fileRun.startOffset;
  const published = (fileRun.saved?.published ?? 0) + summary.sent;
  if (!last && !fileRun.saved) {
    log(`interrupted before any line of ${fileRun.file} was published; run the same command again to publish it`);
    return code;
  }
  const prefixSha256 = await prefixHash(fileRun.file, offset);
  if (prefixSha256 === undefined) throw new Error(`${fileRun.file} became shorter while it was published; run again with --restart`);
  savePublishCheckpoint(fileRun.checkpointFile, {
    version: 1,
    publish: fileRun.identity,
    nextLine,
    offset,
    prefixSha256,
    published,
    interruptedAt: new Date().toISOString(),
  });
  log(
    `interrupted: lines ${fileRun.startLine} to ${nextLine - 1} of ${fileRun.file} were published (${summary.sent} records in this run), the lines from ${nextLine} on were not; ` +
      `run the same command with --resume to publish from line ${nextLine} (checkpoint ${fileRun.checkpointFile})`,
  );
  return code;
}

if (require.main === module) runMain(() => main(process.argv));
