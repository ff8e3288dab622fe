/**
 * `npm run -s publish -- --segment ingest/persons [--key-field id] [--file records.jsonl]`: publishes each
 * line of stdin (or of the file) as one record through the publisher's delivery core, and exits 0 only
 * when every line was delivered.
 */
import { Command, Option } from "commander";
import { createReadStream, statSync } from "fs";
import { parseCommand, wholeNumber, recordTimeoutOption } from "../lib/cli";
import { EXIT, runMain, UserError } from "../lib/errors";
import { newRunId } from "../lib/records";
import { addTargetOptions, resolveTarget } from "../lib/target";
import { publish } from "../publisher/publisher";
import { formatSummary, startProgress, undeliveredReason } from "../publisher/report";
import { checkFile, LineOptions, LineProblem, recordsOf } from "./lines";

interface PublishFlags {
  file?: string;
  keyField?: string;
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
    .addOption(new Option("--concurrency <n>", "PutRecords requests in flight").argParser(wholeNumber(1, 256)).default(8))
    .addOption(recordTimeoutOption());
  return addTargetOptions(program).exitOverride();
}

const log = (line: string) => process.stderr.write(`${line}\n`);

const describeProblem = (p: LineProblem, source: string) => `line ${p.line} of ${source} ${p.message}`;

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const done = parseCommand(program, argv);
  if (done !== undefined) return done;
  const flags = program.opts<PublishFlags>();
  const source = flags.file ?? "stdin";
  const lineOptions: LineOptions = { keyField: flags.keyField, keyPrefix: newRunId() };

  let total: number | undefined;
  if (flags.file) {
    try {
      if (!statSync(flags.file).isFile()) throw new Error("not a file");
    } catch {
      throw new UserError(`--file ${flags.file} cannot be read; check the path`);
    }
    // A file can be checked whole first, so a bad line refuses the run before any record is sent.
    const check = await checkFile(flags.file, lineOptions);
    if (check.problems.length > 0) {
      const more = check.problems.length === 5 ? " (first 5 problems)" : "";
      throw new UserError(`nothing was published: ${check.problems.map((p) => describeProblem(p, flags.file as string)).join("; ")}${more}`);
    }
    total = check.records;
  } else if (process.stdin.isTTY) {
    log("reading records from the terminal, one per line; end with Ctrl-D (or pass --file)");
  }

  const target = await resolveTarget(flags, log);
  const interrupt = new AbortController();
  const onSigint = () => {
    log("interrupted: finishing the records already taken");
    interrupt.abort();
  };
  process.once("SIGINT", onSigint);
  const progress = total !== undefined ? startProgress(total) : undefined;
  try {
    const state: { problem?: LineProblem; skipped: number } = { skipped: 0 };
    const input = flags.file ? createReadStream(flags.file) : process.stdin;
    log(`publishing the lines of ${source}, one record each${flags.keyField ? `, partition key from field "${flags.keyField}"` : ""}`);
    const summary = await publish(target.client, target.streamName, recordsOf(input, lineOptions, state), {
      concurrency: flags.concurrency,
      recordTimeoutMs: flags.recordTimeout * 1000,
      total,
      onProgress: (sent) => progress?.update(sent),
      signal: interrupt.signal,
    });
    progress?.stop();
    const requested = total ?? summary.records;
    process.stderr.write(formatSummary(summary, requested));
    if (state.skipped > 0) log(`  skipped: ${state.skipped} empty lines`);
    const reason = undeliveredReason(summary, requested);
    if (state.problem) {
      throw new UserError(
        `stopped: ${describeProblem(state.problem, source)}; the ${summary.sent} records before it were delivered${reason ? ` (${reason})` : ""}`,
      );
    }
    if (reason) throw new Error(reason);
    return EXIT.ok;
  } finally {
    progress?.stop();
    process.removeListener("SIGINT", onSigint);
    await target.close();
  }
}

if (require.main === module) runMain(() => main(process.argv));
