/**
 * `npm run local-lake`: runs the whole embedded local lake (streams, wire-taps, routes) until Ctrl-C, so
 * several apps can publish and subscribe at the same time. Prints the two variables that point the apps at
 * it on stdout (`eval "$(npm run -s local-lake)"` is not possible, since it keeps running: copy them).
 */
import { Command, Option } from "commander";
import * as fs from "fs";
import * as path from "path";
import { parseCommand, wholeNumber } from "../lib/cli";
import { EXIT, runMain } from "../lib/errors";
import { startLocalLake } from "../../local/lake";
import { localStackName } from "../lib/topology";

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const program = new Command("local-lake")
    .description("Run the embedded local lake (streams, wire-taps, routes of the stack's topology) until Ctrl-C.")
    .addOption(new Option("--stack <name>", "stack whose topology to run (Pulumi.<name>.yaml)").default(localStackName()))
    .addOption(
      new Option("--wire-tap-seconds <n>", "write wire-tap objects at least every N seconds (default: each segment's bufferSeconds, as Firehose)").argParser(
        wholeNumber(0, 900),
      ),
    )
    .exitOverride();
  const done = parseCommand(program, argv);
  if (done !== undefined) return done;
  const { stack, wireTapSeconds } = program.opts<{ stack: string; wireTapSeconds?: number }>();
  const lake = await startLocalLake({ stack, log, services: "all", holder: "npm run local-lake", wireTapMaxSeconds: wireTapSeconds });
  const catalogFile = path.join(lake.dataDir, "catalog.json");
  fs.writeFileSync(catalogFile, `${JSON.stringify(lake.catalog, null, 2)}\n`);
  lake.advertise({ catalogFile });
  for (const service of lake.services) log(`local lake: ${service.aws}: ${service.description}`);
  // One handler for the whole run, installed before the variables are printed (whoever reads them may
  // signal at once) and never removed, so no signal meets the default action: the first Ctrl-C stops the
  // lake cleanly; a second one while stopping ends at once, and the last complete snapshot stays on disk.
  let signals = 0;
  const stopRequested = new Promise<void>((resolve) => {
    const onSignal = () => {
      signals += 1;
      if (signals === 1) return resolve();
      log("local lake: stopped at once; records published since the last snapshot may be lost (see README, The local lake)");
      process.exit(130);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  process.stdout.write(
    [
      `# local lake of ${lake.stackFile} is running; point the apps at it with:`,
      `export AWS_ENDPOINT_URL_KINESIS=${lake.endpoint}`,
      `export DATALAKE_CATALOG=${catalogFile}`,
      `# segments: ${Object.keys(lake.catalog).join(", ")}. Wire-tap objects: ${path.join(lake.dataDir, "s3")}. Ctrl-C stops the lake (its streams are kept).`,
      "",
    ].join("\n"),
  );
  await stopRequested;
  log("local lake: stopping (Ctrl-C again to stop at once)");
  fs.rmSync(catalogFile, { force: true });
  await lake.stop();
  return EXIT.ok;
}

if (require.main === module) runMain(() => main(process.argv));
