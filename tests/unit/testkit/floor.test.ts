/**
 * testkit/ is a top floor, beside bench/: it may import anything, and nothing the lake runs on (model,
 * components, policy, local, apps, the Pulumi program) may import it.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..", "..");
const TESTKIT = path.join(ROOT, "testkit");
const LOWER = ["model", "components", "policy", "local", "apps", "index.ts"];

function sources(p: string): string[] {
  const st = fs.statSync(p);
  if (st.isFile()) return /\.(ts|js)$/.test(p) ? [p] : [];
  return fs.readdirSync(p).flatMap((name) => (name === "node_modules" ? [] : sources(path.join(p, name))));
}

/** Relative module paths a file imports or requires. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)["'](\.[^"']*)["']/g)) out.push(m[1]);
  return out;
}

describe("testkit floor", () => {
  it("nothing below testkit/ imports it", () => {
    const offenders: string[] = [];
    for (const top of LOWER) {
      const p = path.join(ROOT, top);
      if (!fs.existsSync(p)) continue;
      for (const file of sources(p)) {
        for (const spec of importsOf(file)) {
          const target = path.resolve(path.dirname(file), spec);
          if (target === TESTKIT || target.startsWith(TESTKIT + path.sep)) offenders.push(`${path.relative(ROOT, file)} imports ${spec}`);
        }
      }
    }
    assert.deepStrictEqual(offenders, []);
  });
});
