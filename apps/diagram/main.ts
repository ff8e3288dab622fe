/**
 * `npm run -s diagram -- --stack dev`: prints the stack's topology as a Mermaid flowchart on stdout
 * (layers, segments, consumers, and the processors with their filter, transform or aggregate).
 * The topology is read from `Pulumi.<stack>.yaml` with the same checks as `pulumi up`; nothing is deployed.
 */
import { Command, Option } from "commander";
import { parseCommand } from "../lib/cli";
import { runMain } from "../../runtime/errors";
import { loadStackTopology, localStackName } from "../../runtime/topology";
import { renderDiagram } from "./diagram";

async function main(argv: string[]): Promise<number> {
  const program = new Command("diagram")
    .description("Print the lake's topology as a Mermaid diagram")
    .addOption(new Option("--stack <name>", "the stack whose Pulumi.<stack>.yaml to draw").default(localStackName()))
    .addOption(new Option("--fence", "wrap the diagram in a ```mermaid code fence (for Markdown)"))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const done = parseCommand(program, argv);
  if (done !== undefined) return done;
  const flags = program.opts<{ stack: string; fence?: boolean }>();
  const text = renderDiagram(loadStackTopology(flags.stack));
  process.stdout.write(flags.fence ? `\`\`\`mermaid\n${text}\`\`\`\n` : text);
  return 0;
}

runMain(() => main(process.argv));
