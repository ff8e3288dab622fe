/**
 * `npm run subscribe -- --segment ingest/persons [--from trim-horizon] [--max N] [--idle-timeout S]
 * [--checkpoint FILE] [--group NAME [--worker-id ID]]`: every record of the stream as one JSON line on stdout; logs on stderr.
 * SIGINT/SIGTERM stop cleanly (checkpoint saved, exit 0); a second signal exits at once.
 */
import * as fs from "fs";
import * as path from "path";
import { parseCommand } from "../lib/cli";
import { EXIT, runMain, UserError } from "../../runtime/errors";
import { resolveTarget } from "../lib/target";
import { FileCheckpointStore } from "../../runtime/consumer/checkpoint";
import { buildProgram, describeFrom, formatSummary, SubscriberFlags } from "./cli";
import { createFdLineWriter, createLineWriter, defaultPipeMargin, OutputClosedError, OutputFailedError, outputKind, recordToLines } from "./output";
import { subscribe } from "../../runtime/consumer/engine";
import { FanOut } from "../../runtime/consumer/fan-out-reader";
import { DescribeStreamConsumerCommand } from "@aws-sdk/client-kinesis";
import { createKinesisClient, DeadlineKinesisClient } from "../../runtime/client";
import { Target } from "../lib/target";
import { consumerArn } from "./consumer-arn";
import { groupEntry, runGroupWorker } from "./group";

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
  // A file-size limit (ulimit -f) must end in a failed write (EFBIG: one error line, checkpoint intact),
  // not in SIGXFSZ's default action, which kills the process before the checkpoint is saved.
  const onXfsz = () => undefined;
  process.on("SIGXFSZ", onXfsz);
  // Files and devices get every byte of a line written or an error (disk full); pipes and terminals go
  // through process.stdout, which waits for a slow reader.
  const kind = outputKind(1);
  const writeLine = kind === "file" ? createFdLineWriter(1) : createLineWriter(process.stdout);
  // A pipe's reader may hold lines it never consumes (`| head`): the checkpoint lags that many bytes.
  const holdBackBytes = kind === "pipe" ? (flags.pipeMargin ?? defaultPipeMargin()) : 0;
  let lockLost: Error | undefined;
  const store = flags.checkpoint !== undefined ? new FileCheckpointStore(flags.checkpoint, target.identity) : undefined;
  let written = 0;
  let fanOutClient: DeadlineKinesisClient | undefined;
  try {
    let fanOut: FanOut | undefined;
    // A group declared with a consumer reads through it, unless --consumer names another.
    const consumerName = flags.consumer ?? (flags.group !== undefined ? groupEntry(target, flags.group, flags.segment).consumerName : undefined);
    if (consumerName !== undefined) {
      fanOutClient = createKinesisClient({
        endpoint: target.endpoint,
        region: await target.client.config.region(),
        callTimeoutMs: target.callTimeoutMs,
        http2: true,
      });
      fanOut = { consumerArn: await consumerArn(target, consumerName), client: fanOutClient };
      log(`consumer ${consumerName}: reading through SubscribeToShard (enhanced fan-out)`);
    }
    const write = async (record: Parameters<typeof recordToLines>[0]) => {
      // One line per user record (a KPL aggregated record holds many).
      let bytes = 0;
      for (const line of recordToLines(record)) {
        bytes += await writeLine(line);
        written += 1;
      }
      return bytes;
    };
    if (flags.group !== undefined) {
      const engine = { holdBackBytes, fanOut, minGetRecordsIntervalMs: Math.ceil(1000 / flags.readsPerSecond), write, log };
      const { workerId, shardsRead } = await runGroupWorker(target, {
        group: flags.group,
        segment: flags.segment,
        workerId: flags.workerId,
        from: flags.from,
        leaseSeconds: flags.leaseSeconds,
        engine,
        signal: controller.signal,
        log,
      });
      log(`summary: worker ${workerId} wrote ${written} records from ${shardsRead} shard lease(s) of group ${flags.group}; stopped: interrupted (leases released)`);
      return EXIT.ok;
    }
    await store?.open((err) => {
      lockLost ??= err;
      controller.abort();
    });
    log(
      `subscribe: shards without a checkpoint start from ${describeFrom(flags.from)}` +
        (flags.checkpoint ? `; checkpoint ${flags.checkpoint}` : "") +
        (flags.checkpoint && holdBackBytes > 0 ? ` (covers records once ${holdBackBytes} bytes of output follow them: stdout is a pipe)` : "") +
        (flags.from.type === "latest" ? " (use --from trim-horizon to read what the stream retains)" : ""),
    );
    const summary = await subscribe(target.client, target.streamName, {
      from: flags.from,
      checkpoint: store,
      max: flags.max,
      idleTimeoutMs: flags.idleTimeout !== undefined ? flags.idleTimeout * 1000 : undefined,
      signal: controller.signal,
      holdBackBytes,
      fanOut,
      minGetRecordsIntervalMs: Math.ceil(1000 / flags.readsPerSecond),
      write,
      log,
    });
    if (lockLost) throw lockLost;
    log(formatSummary(summary));
    return EXIT.ok;
  } catch (err) {
    if (lockLost) throw lockLost;
    if (err instanceof OutputClosedError) {
      log(
        `stdout was closed after ${written} records; stopped` +
          (store ? ` (checkpoint saved; a restart re-delivers what the reader may not have consumed${holdBackBytes > 0 ? `, up to the last ${holdBackBytes} bytes` : ""})` : ""),
      );
      return EXIT.ok;
    }
    if (err instanceof OutputFailedError) {
      throw new Error(
        `${err.message} after ${written} records` + (store ? "; the checkpoint covers only records written in full" : ""),
      );
    }
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGXFSZ", onXfsz);
    await store?.close();
    fanOutClient?.destroy();
    await target.close();
  }
}

runMain(() => main(process.argv));
