/**
 * `npm run local-lake`: keeps the embedded local lake running until Ctrl-C, so several apps can publish
 * and subscribe at the same time. Prints the two variables that point the apps at it.
 */
import { Command, Option } from "commander";
import * as fs from "fs";
import * as path from "path";
import { parseCommand } from "../lib/cli";
import { EXIT, runMain } from "../lib/errors";
import { startLocalLake } from "../../local/lake";
import { localStackName } from "../lib/topology";

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const program = new Command("local-lake")
    .description("Run the embedded local lake (kinesis-local with the stack's segment streams) until Ctrl-C.")
    .addOption(new Option("--stack <name>", "stack whose topology to run (Pulumi.<name>.yaml)").default(localStackName()))
    .exitOverride();
  const done = parseCommand(program, argv);
  if (done !== undefined) return done;
  const { stack } = program.opts<{ stack: string }>();
  const lake = await startLocalLake({ stack, log });
  const catalogFile = path.join(lake.dataDir, "catalog.json");
  fs.writeFileSync(catalogFile, `${JSON.stringify(lake.catalog, null, 2)}\n`);
  process.stdout.write(
    [
      `# local lake of ${lake.stackFile} is running; point the apps at it with:`,
      `export AWS_ENDPOINT_URL_KINESIS=${lake.endpoint}`,
      `export DATALAKE_CATALOG=${catalogFile}`,
      `# segments: ${Object.keys(lake.catalog).join(", ")}. Ctrl-C stops the lake (its streams are kept).`,
      "",
    ].join("\n"),
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  log("stopping the local lake");
  fs.rmSync(catalogFile, { force: true });
  await lake.stop();
  return EXIT.ok;
}

if (require.main === module) runMain(() => main(process.argv));
