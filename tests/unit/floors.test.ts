/**
 * Floors that only go down (issue 18): the pure model at the bottom; the runtime, the AWS components and
 * the policy pack above it; the local lake above those; the apps and the Pulumi program on top; bench and
 * testkit above everything. No file imports from a higher floor, `model/` uses no SDK, fs or environment,
 * and no import circle exists among the project's files.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");
/** Folder (or file) -> floor. */
const FLOORS: Record<string, number> = {
  model: 1,
  runtime: 2,
  components: 2,
  policy: 2,
  local: 3,
  apps: 4,
  "index.ts": 4,
  lib: 4,
  examples: 5,
  bench: 5,
  testkit: 5,
};

function sources(p: string): string[] {
  const st = fs.statSync(p);
  if (st.isFile()) return /\.ts$/.test(p) && !p.endsWith(".d.ts") ? [p] : [];
  return fs.readdirSync(p).flatMap((name) => (name === "node_modules" ? [] : sources(path.join(p, name))));
}

function floorOf(file: string): number | undefined {
  return FLOORS[path.relative(ROOT, file).split(path.sep)[0]];
}

/** Project files a file imports (relative specifiers resolved to .ts files; `import type` included). */
function importsOf(file: string): string[] {
  // Comments (examples in JSDoc) are not imports.
  const text = fs.readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)["'](\.[^"']*)["']/g)) {
    const base = path.resolve(path.dirname(file), m[1]);
    const found = [`${base}.ts`, base, path.join(base, "index.ts")].find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
    if (found) out.push(found);
  }
  return out;
}

const files = Object.keys(FLOORS).flatMap((top) => (fs.existsSync(path.join(ROOT, top)) ? sources(path.join(ROOT, top)) : []));
const rel = (f: string) => path.relative(ROOT, f);

describe("floors", () => {
  it("no file imports from a higher floor", () => {
    const up: string[] = [];
    for (const file of files) {
      for (const target of importsOf(file)) {
        const from = floorOf(file)!;
        const to = floorOf(target);
        if (to !== undefined && to > from) up.push(`${rel(file)} (floor ${from}) imports ${rel(target)} (floor ${to})`);
      }
    }
    assert.deepStrictEqual(up, []);
  });

  it("model/ is pure: no AWS SDK, Pulumi, file system, child processes or environment", () => {
    const impure: string[] = [];
    for (const file of sources(path.join(ROOT, "model"))) {
      const text = fs.readFileSync(file, "utf8");
      const hit = /from\s+["'](@aws-sdk\/[^"']+|@pulumi\/[^"']+|fs|child_process|net|http|https)["']|process\.env/.exec(text);
      if (hit) impure.push(`${rel(file)}: ${hit[0]}`);
    }
    assert.deepStrictEqual(impure, []);
  });

  it("no import circle among the project's files", () => {
    const graph = new Map(files.map((f) => [f, importsOf(f)]));
    const circles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, "open");
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === "open") circles.push([...stack.slice(stack.indexOf(t)), t].map(rel).join(" -> "));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, "done");
    };
    for (const f of files) if (!state.has(f)) visit(f);
    assert.deepStrictEqual(circles, []);
  });
});
