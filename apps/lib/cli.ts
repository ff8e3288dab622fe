/**
 * Command-line plumbing shared by the apps' entrypoints (commander).
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { EXIT } from "./errors";

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
