/**
 * `npm run local-lake`: runs the whole embedded local lake (streams, wire-taps, routes) until Ctrl-C, so
 * several apps can publish and subscribe at the same time. Prints the variables that point the apps (and
 * any AWS SDK or the AWS CLI) at it on stdout (`eval "$(npm run -s local-lake)"` is not possible, since it
 * keeps running: copy them). The lake keeps its port and its catalog file across restarts, so pasted lines
 * stay valid; each stack runs in its own folder, side by side with the others.
 */
import { writeFileAtomic } from "../../runtime/files";
import { Command, Option } from "commander";
import * as path from "path";
import { parseCommand, wholeNumber } from "../lib/cli";
import { EXIT, runMain } from "../../runtime/errors";
import { startLocalLake } from "../../local/lake";
import { localStackName } from "../../runtime/topology";
import type { LakeConfig } from "../../model/config";

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const program = new Command("local-lake")
    .description("Run the embedded local lake (streams, wire-taps, routes of the stack's topology) until Ctrl-C.")
    .addOption(new Option("--stack <name>", "stack whose topology to run (Pulumi.<name>.yaml)").default(localStackName()))
    .addOption(new Option("--port <n>", "port of the lake's Kinesis endpoint on 127.0.0.1 (default: the one this stack's lake used last, else a free one)").argParser(wholeNumber(1, 65535)))
    .addOption(
      new Option("--wire-tap-seconds <n>", "write wire-tap objects at least every N seconds (default: each segment's bufferSeconds, as Firehose)").argParser(
        wholeNumber(0, 900),
      ),
    )
    .exitOverride();
  const done = parseCommand(program, argv);
  if (done !== undefined) return done;
  const { stack, wireTapSeconds, port } = program.opts<{ stack: string; wireTapSeconds?: number; port?: number }>();
  const lake = await startLocalLake({ stack, log, services: "all", holder: "npm run local-lake", wireTapMaxSeconds: wireTapSeconds, port });
  const catalogFile = path.join(lake.dataDir, "catalog.json");
  writeFileAtomic(catalogFile, `${JSON.stringify(lake.catalog, null, 2)}\n`);
  const exports = [
    `export AWS_ENDPOINT_URL_KINESIS=${lake.endpoint}`,
    `export AWS_REGION=${lake.region}`,
    // botocore (boto3, AWS CLI v1) reads this one, not AWS_REGION.
    `export AWS_DEFAULT_REGION=${lake.region}`,
    `export DATALAKE_CATALOG=${catalogFile}`,
    `export DATALAKE_STACK=${stack}`,
    // The consumer groups' lease tables (only when the stack declares groups).
    ...(lake.dynamodb ? [`export AWS_ENDPOINT_URL_DYNAMODB=${lake.dynamodb.endpoint}`] : []),
  ];
  lake.advertise({ catalogFile, exports });
  for (const service of lake.services) log(`local lake: ${service.aws}: ${service.description}`);
  // One handler for the whole run, installed before the variables are printed (whoever reads them may
  // signal at once) and never removed, so no signal meets the default action: the first Ctrl-C stops the
  // lake cleanly; a second one while stopping ends at once, and the last complete snapshot stays on disk.
  let signals = 0;
  const stopRequested = new Promise<void>((resolve) => {
    const onSignal = () => {
      signals += 1;
      if (signals === 1) return resolve();
      log("local lake: stopped at once; records published since the last snapshot may be lost (see docs/local-lake.md)");
      process.exit(130);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  process.stdout.write(
    [
      `# local lake of ${lake.stackFile} is running in region ${lake.region}; point the apps (and any AWS SDK or the AWS CLI) at it with:`,
      ...exports,
      `# segments: ${Object.keys(lake.catalog).join(", ")}. Wire-tap objects: ${path.join(lake.dataDir, "s3")}. Ctrl-C stops the lake (its streams, port and catalog are kept).`,
      ...wireTapLines(lake.config.segments, wireTapSeconds),
      "",
    ].join("\n"),
  );
  const failure = await Promise.race([stopRequested.then(() => undefined), lake.failed]);
  if (failure) {
    log(`local lake: ${failure.message}; stopping the lake, since running on would leave it behind (fix the cause and start it again)`);
    await lake.stop();
    return EXIT.failed;
  }
  log("local lake: stopping (Ctrl-C again to stop at once)");
  await lake.stop();
  return EXIT.ok;
}

/** When each segment's wire-tap writes an object (its Firehose buffer), and how to see objects sooner locally. */
export function wireTapLines(segments: LakeConfig["segments"], maxSeconds: number | undefined): string[] {
  const lines = segments.map((s) => {
    const seconds = maxSeconds === undefined ? s.wireTap.bufferSeconds : Math.min(s.wireTap.bufferSeconds, maxSeconds);
    return `#   ${s.address}: a wire-tap object every ${seconds} s, or sooner once ${s.wireTap.bufferMiB} MiB are buffered${maxSeconds !== undefined && seconds < s.wireTap.bufferSeconds ? ` (--wire-tap-seconds; the stack says ${s.wireTap.bufferSeconds} s)` : ""}`;
  });
  const slow = segments.some((s) => s.wireTap.bufferSeconds > 10) && maxSeconds === undefined;
  return [
    "# wire-taps, as Firehose buffers them (records reach the archive, and `query`, only then):",
    ...lines,
    ...(slow ? ["#   for quicker objects in local work: npm run local-lake -- --wire-tap-seconds 5"] : []),
  ];
}

if (require.main === module) runMain(() => main(process.argv));
