/**
 * Command-line plumbing shared by the apps' entrypoints (commander).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { EXIT } from "../../runtime/errors";

/** A commander parser for a whole number in [min, max]; its error names the range. */
export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/**
 * Parses argv with a program built with `.exitOverride()`. Returns the exit code when the run is over
 * already (`--help`: 0; a bad flag, which commander has reported in one line: 2), else undefined.
 */
export function parseCommand(program: Command, argv: string[]): number | undefined {
  try {
    program.parse(argv);
    return undefined;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw err;
  }
}

/**
 * `--record-timeout SECONDS`: how long the publishing apps keep trying one record before it counts as
 * undelivered (and the run exits 1 with the count). The publisher's delivery core defaults to 120 s.
 */
export function recordTimeoutOption(): Option {
  return new Option("--record-timeout <seconds>", "give up on a record not delivered within this many seconds (exit 1 with the count)")
    .argParser(wholeNumber(1, 86_400))
    .default(120);
}
