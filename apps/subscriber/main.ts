/**
 * `npm run subscribe -- --segment ingest/persons [--from trim-horizon] [--max N] [--idle-timeout S]
 * [--checkpoint FILE]`: every record of the stream as one JSON line on stdout; logs on stderr.
 * SIGINT/SIGTERM stop cleanly (checkpoint saved, exit 0); a second signal exits at once.
 */
import * as fs from "fs";
import * as path from "path";
import { parseCommand } from "../lib/cli";
import { EXIT, runMain, UserError } from "../lib/errors";
import { resolveTarget } from "../lib/target";
import { FileCheckpointStore } from "./checkpoint";
import { buildProgram, describeFrom, formatSummary, SubscriberFlags } from "./cli";
import { createLineWriter, OutputClosedError, recordToLines } from "./output";
import { subscribe } from "./subscriber";

const log = (line: string) => process.stderr.write(`${line}\n`);

function checkCheckpointPath(file: string): void {
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir)) throw new UserError(`--checkpoint ${file}: directory ${dir} does not exist`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new UserError(`--checkpoint ${file} is a directory; give a file name`);
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const done = parseCommand(program, argv);
  if (done !== undefined) return done;
  const flags = program.opts<SubscriberFlags>();
  if (flags.checkpoint !== undefined) checkCheckpointPath(flags.checkpoint);

  const target = await resolveTarget(flags, log);
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    log(`${signal}: stopping (again to quit at once)`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const writeLine = createLineWriter(process.stdout);
  let written = 0;
  try {
    log(
      `subscribe: shards without a checkpoint start from ${describeFrom(flags.from)}` +
        (flags.checkpoint ? `; checkpoint ${flags.checkpoint}` : "") +
        (flags.from.type === "latest" ? " (use --from trim-horizon to read what the stream retains)" : ""),
    );
    const summary = await subscribe(target.client, target.streamName, {
      from: flags.from,
      checkpoint: flags.checkpoint !== undefined ? new FileCheckpointStore(flags.checkpoint) : undefined,
      max: flags.max,
      idleTimeoutMs: flags.idleTimeout !== undefined ? flags.idleTimeout * 1000 : undefined,
      signal: controller.signal,
      write: async (record) => {
        // One line per user record (a KPL aggregated record holds many).
        for (const line of recordToLines(record)) {
          await writeLine(line);
          written += 1;
        }
      },
      log,
    });
    log(formatSummary(summary));
    return EXIT.ok;
  } catch (err) {
    if (err instanceof OutputClosedError) {
      log(`stdout was closed after ${written} records; stopped${flags.checkpoint ? " (checkpoint saved)" : ""}`);
      return EXIT.ok;
    }
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await target.close();
  }
}

runMain(() => main(process.argv));
