#!/usr/bin/env node
/**
 * `npm test`: the type check, the unit tests and the integration tests, one after the other (a step that
 * fails stops the run, as `a && b && c` would), each step's output passed through as it comes, and one
 * closing line that totals the tests of every mocha run: `tests: N passed, N failed` (`, N skipped` when
 * some were pending), the plain form CI tools read.
 *
 * DATALAKE_TEST_STEPS (a JSON array of argv arrays) replaces the steps, for this script's own test.
 */
"use strict";
const { spawn } = require("child_process");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "node_modules", ".bin");

const DEFAULT_STEPS = [
  ["tsc", "--noEmit"],
  ["mocha", "--parallel", "--jobs", "2", "tests/unit/**/*.test.ts"],
  ["mocha", "--config", ".mocharc.integration.js"],
];

/** Mocha's closing counts in `text` ("  12 passing (3s)", "  1 failing", "  2 pending"), summed. */
function countsOf(text) {
  const sum = (word) => [...text.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\b`, "gm"))].reduce((n, m) => n + Number(m[1]), 0);
  return { passed: sum("passing"), failed: sum("failing"), skipped: sum("pending") };
}

/** The closing line. */
function totalsLine(counts) {
  return `tests: ${counts.passed} passed, ${counts.failed} failed${counts.skipped > 0 ? `, ${counts.skipped} skipped` : ""}`;
}

/** Runs one step with its output passed through; resolves with its exit code and what it printed. */
function run(argv) {
  return new Promise((resolve) => {
    const [command, ...args] = argv;
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, PATH: `${BIN}${path.delimiter}${process.env.PATH}` }, stdio: ["inherit", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (chunk) => {
      process.stdout.write(chunk);
      text += chunk.toString();
    });
    child.stderr.on("data", (chunk) => {
      process.stderr.write(chunk);
      text += chunk.toString();
    });
    child.on("error", (err) => {
      process.stderr.write(`${command}: ${err.message}\n`);
      resolve({ code: 1, text });
    });
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), text }));
  });
}

async function main() {
  const steps = process.env.DATALAKE_TEST_STEPS ? JSON.parse(process.env.DATALAKE_TEST_STEPS) : DEFAULT_STEPS;
  const total = { passed: 0, failed: 0, skipped: 0 };
  let code = 0;
  for (const step of steps) {
    const result = await run(step);
    const counts = countsOf(result.text);
    for (const key of Object.keys(total)) total[key] += counts[key];
    if (result.code !== 0) {
      code = result.code;
      // A step that failed without a test failing (a type error, a crash) still counts as a failure.
      if (counts.failed === 0) total.failed += 1;
      break;
    }
  }
  process.stdout.write(`${totalsLine(total)}\n`);
  process.exitCode = code;
}

if (require.main === module) main();

module.exports = { countsOf, totalsLine };
