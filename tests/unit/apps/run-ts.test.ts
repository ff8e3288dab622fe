/**
 * scripts/run-ts.js, which every app's npm script goes through: it must run a TypeScript entry as
 * ts-node would (per-file __dirname, `require.main === module` only in the entry, argv, exit codes,
 * stack traces on the .ts lines), rebuild when a source changes, and survive concurrent first runs.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runNode, RUN_TS } from "../../helpers/run-app";

/** The launcher on an entry (absolute path), with its bundles kept in `cache`. */
const run = (entry: string, args: string[], cache: string) => runNode([RUN_TS, entry, ...args], { ...process.env, DATALAKE_RUN_CACHE: cache });

describe("scripts/run-ts.js (how the npm scripts run the apps)", function () {
  this.timeout(60_000);
  let dir: string;
  let cache: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "run-ts-"));
    cache = path.join(dir, "cache");
    fs.mkdirSync(path.join(dir, "lib"));
    fs.writeFileSync(
      path.join(dir, "lib", "where.ts"),
      [
        'import * as path from "path";',
        "export const libDir: string = __dirname;",
        "export const libFile = path.basename(__filename);",
        "export const libIsMain = require.main === module;",
        "",
      ].join("\n"),
    );
    fs.writeFileSync(
      path.join(dir, "main.ts"),
      [
        'import { libDir, libFile, libIsMain } from "./lib/where";',
        "interface Out { dir: string; libDir: string; libFile: string; libIsMain: boolean; args: string[] }",
        "const out: Out = { dir: __dirname, libDir, libFile, libIsMain, args: process.argv.slice(2) };",
        "if (require.main === module) {",
        "  console.log(JSON.stringify(out));",
        '  if (out.args[0] === "fail") process.exit(3);',
        '  if (out.args[0] === "throw") throw new Error("boom");',
        "}",
        "",
      ].join("\n"),
    );
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("gives each file its own __dirname and __filename, runs the entry as main only, and passes argv and the exit code", async () => {
    const r = await run(path.join(dir, "main.ts"), ["a", "--b"], cache);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.deepStrictEqual(JSON.parse(r.stdout), { dir, libDir: path.join(dir, "lib"), libFile: "where.ts", libIsMain: false, args: ["a", "--b"] });
    const failed = await run(path.join(dir, "main.ts"), ["fail"], cache);
    assert.strictEqual(failed.code, 3);
  });

  it("maps a stack trace to the TypeScript source's line", async () => {
    const r = await run(path.join(dir, "main.ts"), ["throw"], cache);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`${path.join(dir, "main.ts").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:7:`));
  });

  it("rebuilds when a source file changes, and reuses the bundle while none does", async () => {
    assert.strictEqual((await run(path.join(dir, "main.ts"), [], cache)).code, 0);
    const bundle = fs.readdirSync(cache).find((f) => f.endsWith(".js"))!;
    const builtAt = fs.statSync(path.join(cache, bundle)).mtimeMs;
    assert.strictEqual((await run(path.join(dir, "main.ts"), [], cache)).code, 0);
    assert.strictEqual(fs.statSync(path.join(cache, bundle)).mtimeMs, builtAt, "an unchanged source is not rebuilt");
    const lib = path.join(dir, "lib", "where.ts");
    fs.writeFileSync(lib, fs.readFileSync(lib, "utf8").replace("libFile = path.basename(__filename)", 'libFile = "changed"'));
    const r = await run(path.join(dir, "main.ts"), [], cache);
    assert.strictEqual(JSON.parse(r.stdout).libFile, "changed");
  });

  it("lets concurrent first runs of the same entry all succeed", async () => {
    const runs = await Promise.all([1, 2, 3, 4].map((i) => run(path.join(dir, "main.ts"), [String(i)], cache)));
    for (const [i, r] of runs.entries()) {
      assert.strictEqual(r.code, 0, r.stderr);
      assert.deepStrictEqual(JSON.parse(r.stdout).args, [String(i + 1)]);
    }
  });

  it("names the file and line of a syntax error in one line and exits 1", async () => {
    fs.writeFileSync(path.join(dir, "lib", "where.ts"), "export const = ;\n");
    const r = await run(path.join(dir, "main.ts"), [], cache);
    assert.strictEqual(r.code, 1);
    assert.strictEqual(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^run-ts: cannot build .*where\.ts:1: /);
  });
});
