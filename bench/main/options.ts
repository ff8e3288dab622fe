/** The bench's command line (bench/main.ts): which sections to run, and how long. */
import { Command, Option } from "commander";

export const opts = new Command("bench")
  .description("Measure the apps at Kinesis's limits and write bench/RESULTS.md")
  .addOption(new Option("--quick", "a shorter run (under 5 minutes)"))
  .addOption(new Option("--only <sections>", "comma-separated sections: capacity,aggregation,ceiling,subscriber,lake,durability,program,groups"))
  .addOption(new Option("--out <file>", "results file (default: bench/RESULTS.md for a full run, bench/RESULTS.quick.md for --quick, which leaves the committed full run alone)"))
  .parse(process.argv)
  .opts<{ quick?: boolean; only?: string; out?: string }>();

export const quick = opts.quick === true;
export const only = new Set((opts.only ?? "capacity,aggregation,ceiling,subscriber,lake,durability,program,groups").split(","));
