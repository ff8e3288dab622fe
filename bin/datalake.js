#!/usr/bin/env node
/**
 * `datalake <command> [options]`: one command for every app (`npx datalake publish-demo --count 10`, no
 * `--` and no `-s` as npm scripts need). Each command is the app its npm script runs (package.json scripts:
 * `npm run publish-demo` stays an alias of `datalake publish-demo`); its arguments reach the app untouched.
 *
 * How an app runs: in this process, not as a child. The app's signal handlers get SIGINT and SIGTERM
 * directly, its exit status is this process's, nothing sits between it and stdout (no banner: stdout
 * carries only the app's data), and `kill -9` of this pid leaves no orphan behind.
 *  - In a checkout (the app's .ts source is here): as its npm script runs it, through scripts/run-ts.js (an
 *    esbuild bundle of its sources, cached until a source changes) or, for policy-check, ts-node.
 *  - In an installed package (no sources, `npm run build` output in dist/): the compiled JavaScript, with
 *    no TypeScript tooling at run time. policy-check runs the Pulumi program, which the package does not
 *    contain: it runs from a checkout only.
 */
"use strict";
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");

/** Every command: its app's entry (without extension), how its npm script runs it, and one line of help. */
const COMMANDS = {
  publish: { entry: "apps/publish/main", runner: "run-ts", summary: "publish each line of stdin (or --file) as one record to a segment" },
  "publish-demo": { entry: "apps/publisher/main", runner: "run-ts", summary: "publish demo person records to a segment" },
  subscribe: { entry: "apps/subscriber/main", runner: "run-ts", summary: "write a segment's records to stdout, one JSON line each (checkpoints, resume)" },
  replay: { entry: "apps/replay/main", runner: "run-ts", summary: "republish a time window of a segment's archive into a segment" },
  query: { entry: "apps/query/main", runner: "run-ts", summary: "SQL over the local lake's archive (the Athena table names)" },
  lag: { entry: "apps/lag/main", runner: "run-ts", summary: "how far a consumer is behind, per shard" },
  diagram: { entry: "apps/diagram/main", runner: "run-ts", summary: "a Mermaid diagram of a stack's layers, segments, consumers and routes" },
  "policy-check": { entry: "apps/policy-check/main", runner: "ts-node", summary: "evaluate the guardrail policy pack against a stack, without deploying" },
  "local-lake": { entry: "apps/local-lake/main", runner: "run-ts", summary: "run the whole local lake (streams, wire-taps, routes) until Ctrl-C" },
  demo: { entry: "apps/demo/main", runner: "run-ts", summary: "run the whole lake on this machine once and check that nothing is lost" },
};

const NAMES = Object.keys(COMMANDS);

function usage() {
  const width = Math.max(...NAMES.map((n) => n.length));
  return [
    "Usage: datalake <command> [options]",
    "",
    "Commands (`datalake <command> --help` lists a command's options):",
    ...NAMES.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name].summary}`),
    "",
  ].join("\n");
}

function fail(line) {
  process.stderr.write(`datalake: ${line}\n`);
  process.exit(2);
}

/** Runs `entry` (no extension) as this process's main module with `args`. */
function run(name, args) {
  const { entry, runner } = COMMANDS[name];
  const source = path.join(ROOT, `${entry}.ts`);
  if (fs.existsSync(source)) {
    if (runner === "run-ts") {
      // run-ts.js reads [node, run-ts.js, entry, ...args] and hands the app [node, entry, ...args].
      const runTs = path.join(ROOT, "scripts", "run-ts.js");
      process.argv = [process.argv[0], runTs, source, ...args];
      require(runTs);
      return;
    }
    // What `ts-node --transpile-only <entry>` does: register the compiler hook, then run the entry as main.
    require(require.resolve("ts-node", { paths: [ROOT] })).register({ transpileOnly: true, projectSearchDir: ROOT });
    runAsMain(source, args);
    return;
  }
  const compiled = path.join(ROOT, "dist", `${entry}.js`);
  if (runner === "ts-node") {
    fail(`${name} evaluates the lake's Pulumi program, which this package does not contain; run it in a checkout of the lake's repository (npx datalake ${name})`);
  }
  if (!fs.existsSync(compiled)) fail(`${name}: ${path.relative(process.cwd(), compiled)} is missing; run \`npm run build\` first`);
  process.setSourceMapsEnabled(true);
  runAsMain(compiled, args);
}

/** Loads `file` as the main module (`require.main === module` holds in it), with argv [node, file, ...args]. */
function runAsMain(file, args) {
  process.argv = [process.argv[0], file, ...args];
  require("module").runMain(file);
}

function main(argv) {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(usage());
    process.exit(2);
  }
  if (first === "--help" || first === "-h" || first === "help") {
    if (first === "help" && rest.length > 0) {
      if (!COMMANDS[rest[0]]) fail(`unknown command "${rest[0]}"; the commands are ${NAMES.join(", ")}`);
      return run(rest[0], ["--help"]);
    }
    process.stdout.write(usage());
    return undefined;
  }
  if (first === "--version" || first === "-V") {
    process.stdout.write(`${JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).version}\n`);
    return undefined;
  }
  if (!COMMANDS[first]) {
    const what = first.startsWith("-") ? `unknown option "${first}" before the command` : `unknown command "${first}"`;
    fail(`${what}; the commands are ${NAMES.join(", ")} (datalake --help)`);
  }
  return run(first, rest);
}

module.exports = { COMMANDS };

if (require.main === module) main(process.argv.slice(2));
