#!/usr/bin/env node
/**
 * `npm run build` (and `npm pack`, through `prepack`): compiles the package into dist/ with
 * tsconfig.build.json (JavaScript, type declarations, source maps), after emptying dist/ so that a source
 * file deleted since the last build does not ship, and copies the one plain JavaScript file the compiled
 * code loads by path (local/kinesis-shim.js, preloaded into the Kinesis emulator).
 */
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const ROOT = path.resolve(__dirname, "..");
const DIST = path.join(ROOT, "dist");
const ASSETS = ["local/kinesis-shim.js"];

fs.rmSync(DIST, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(ROOT, "tsconfig.build.json")], { cwd: ROOT, stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
for (const asset of ASSETS) fs.copyFileSync(path.join(ROOT, asset), path.join(DIST, asset));
