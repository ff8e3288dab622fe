/**
 * A ts-node transpiler (its `transpiler` option) that gives exactly the output ts-node's own transpile-only
 * mode gives (TypeScript's transpileModule with the project's compiler options), kept in a disk cache
 * keyed by the TypeScript version, the options, the file name and the source text.
 *
 * Why: mocha (.mocharc.json) loads the tests through ts-node, and every mocha process and parallel worker
 * transpiled the same ~100 unchanged files again (tests, apps, model, components), 2-5 s of CPU each on
 * the 2-core test machine. With the cache a worker starts in about a second. The output is byte for byte
 * what ts-node would have produced (checked on every tracked .ts file, cold and warm), so the tests run
 * the same JavaScript; only the repeated work is saved. A source that does not transpile cleanly
 * (diagnostics) is never cached, so its errors are reported every time, as ts-node reports them.
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

/** node_modules/.cache/ts-transpile under the project: ignored by git, removed by `npm ci`. */
const CACHE_DIR = process.env.DATALAKE_TS_CACHE_DIR || path.join(__dirname, "..", "..", "..", "node_modules", ".cache", "ts-transpile");

exports.create = function create({ service }) {
  const ts = require(service.projectLocalResolveHelper("typescript", true));
  const compilerOptions = service.config.options;
  const salt = `${ts.version}\0${JSON.stringify(compilerOptions)}\0`;
  let dirReady = false;
  return {
    transpile(input, { fileName }) {
      const key = crypto.createHash("sha256").update(salt).update(fileName).update("\0").update(input).digest("hex");
      const file = path.join(CACHE_DIR, `${key}.json`);
      try {
        return JSON.parse(fs.readFileSync(file, "utf8"));
      } catch {
        // not cached yet (or a torn entry from an old crash: rewritten below)
      }
      const result = ts.transpileModule(input, { fileName, compilerOptions, reportDiagnostics: true });
      if (result.diagnostics && result.diagnostics.length > 0) return result;
      const entry = { outputText: result.outputText, sourceMapText: result.sourceMapText };
      try {
        if (!dirReady) fs.mkdirSync(CACHE_DIR, { recursive: true });
        dirReady = true;
        const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(entry));
        fs.renameSync(tmp, file); // atomic: concurrent processes never read half an entry
      } catch {
        // a read-only or full disk only costs speed
      }
      return entry;
    },
  };
};
