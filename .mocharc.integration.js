/**
 * Mocha configuration of `npm run test:integration`: .mocharc.json plus the integration suite's own
 * settings, and its files ordered longest first.
 *
 * Why the order: mocha's parallel mode hands files to its workers in the order given, so a long file that
 * comes late (alphabetically) starts when the others are nearly done and alone bounds the run's end.
 * Starting the longest files first lets the short ones fill in around them. A file not named here runs
 * after these, in alphabetical order, so a new file is never left out.
 *
 * Why four workers on a 2-core machine: these tests mostly wait (on emulators, restarts, kills, idle
 * timers, frozen endpoints), using about one core on average over a run; the CPU-heavy start-ups are
 * cached (apps start from run-ts.js bundles, mocha's ts-node output is cached). Every wait in them is
 * bounded and fails only on a real hang, so a busier machine makes them slower, not wrong. Measured on
 * the 2-core test machine while other work ran on it: 2 workers 242 s, 3 workers 162 s, 4 workers 133 s,
 * all 81 passing.
 */
"use strict";
const fs = require("fs");
const path = require("path");

const DIR = path.join("tests", "integration");
/** The longest files, longest first (measured serially on the 2-core test machine, in seconds). */
const LONGEST_FIRST = [
  "local-lake-crash", // ~85: kill -9 rounds, restarts with saved state
  "consumer-group-faults", // ~50: LATEST hand-overs, a frozen and a refusing lease table
  "subscriber-faults", // ~45: full disks, pipes, locks, a slow endpoint
  "archive", // ~45: publish, query, replay, a killed replay
  "package", // ~45: npm pack (a build), an offline install, 10,000 records, kill -9 and resume
  "deadlines", // ~40: frozen and refusing endpoints, retry bounds
  "real-clients", // ~30: boto3, AWS CLI v2, a Go build
  "leases", // ~35: coordinators and worker processes on dynalite
  "lag", // ~30
  "consumer-group", // ~30: 16 shards, 3 workers, kill -9 and a join, 20,000 records
  "read-budget", // ~25: a 12 s live stream
  "consumer-group-reshard", // ~22: split and merge under 3 workers
];

const all = fs.readdirSync(path.join(__dirname, DIR)).filter((f) => f.endsWith(".test.ts")).sort();
const first = LONGEST_FIRST.map((name) => `${name}.test.ts`).filter((f) => all.includes(f));

module.exports = {
  ...require("./.mocharc.json"),
  parallel: true,
  jobs: 4,
  timeout: 180_000,
  spec: [...first, ...all.filter((f) => !first.includes(f))].map((f) => path.join(DIR, f)),
};
