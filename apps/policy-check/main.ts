/**
 * `npm run -s policy-check -- --stack dev`: evaluates the lake's policy pack (policy/) against every
 * resource the program declares for the stack, captured under Pulumi mocks (no cloud, no Pulumi CLI).
 * Prints one line per violation (rule, resource, message) on stdout and exits 1 when there is any.
 */
import { Command, Option } from "commander";
import * as fs from "fs";
import * as path from "path";
import { parseCommand } from "../lib/cli";
import { EXIT, runMain, UserError } from "../../runtime/errors";
import { policies } from "../../policy/rules";
import { captureStack } from "./capture";
import { evaluatePolicies, formatViolation } from "./evaluate";

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const program = new Command("policy-check")
    .description("Evaluate the lake's guardrail policy pack against a stack's resources, without deploying")
    .addOption(new Option("--stack <name>", "stack whose Pulumi.<stack>.yaml to use").default("dev"))
    .addOption(new Option("--program <file>", "a Pulumi program to check instead of index.ts (e.g. a change under review)"))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const done = parseCommand(program, argv);
  if (done !== undefined) return done;
  const { stack, program: programFile } = program.opts<{ stack: string; program?: string }>();
  const dir = path.resolve(__dirname, "..", "..");

  log(`policy-check: running the program for stack ${stack} under mocks`);
  if (programFile !== undefined && !fs.existsSync(programFile)) throw new UserError(`--program ${programFile}: no such file`);
  const resources = await captureStack({ dir, stack, program: programFile && path.resolve(programFile) });
  const violations = await evaluatePolicies(policies, resources);
  for (const v of violations) process.stdout.write(`${formatViolation(v)}\n`);
  const rules = policies.length;
  if (violations.length > 0) {
    log(`policy-check: ${violations.length} violation(s) of ${new Set(violations.map((v) => v.rule)).size} rule(s) in stack ${stack} (${resources.length} resources, ${rules} rules)`);
    return EXIT.failed;
  }
  log(`policy-check: stack ${stack} passes all ${rules} rules (${resources.length} resources)`);
  return EXIT.ok;
}

runMain(() => main(process.argv));
