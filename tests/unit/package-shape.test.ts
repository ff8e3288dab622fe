/**
 * The package's shape: the `datalake` command runs what the npm scripts run, Pulumi still runs the Pulumi
 * program although package.json names the library, and the built package declares every package its
 * code loads as a dependency (devDependencies are not installed with it).
 */
import * as assert from "assert";
import * as fs from "fs";
import { builtinModules } from "module";
import * as path from "path";
import { parse as parseYaml } from "yaml";

const ROOT = path.join(__dirname, "..", "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { COMMANDS } = require(path.join(ROOT, "bin", "datalake.js")) as {
  COMMANDS: Record<string, { entry: string; runner: "run-ts" | "ts-node"; summary: string }>;
};

/** Every .ts file under `dir`, relative to the project. */
function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return sources(rel);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [rel] : [];
  });
}

describe("package shape (the datalake command, the library package)", () => {
  it("has one datalake command per app, each running the entry of the npm script of its name the way that script does", () => {
    assert.deepStrictEqual(Object.keys(COMMANDS).sort(), ["demo", "diagram", "lag", "local-lake", "policy-check", "publish", "publish-demo", "query", "replay", "subscribe"]);
    for (const [name, command] of Object.entries(COMMANDS)) {
      const script: string = pkg.scripts[name];
      assert.ok(script, `npm script ${name} is missing (the scripts are the command's aliases)`);
      const expected = command.runner === "run-ts" ? `node scripts/run-ts.js ${command.entry}.ts` : `ts-node --transpile-only ${command.entry}.ts`;
      assert.strictEqual(script, expected, `datalake ${name} and npm run ${name} run different things`);
      assert.ok(command.summary.length > 0 && !command.summary.includes("\n"), `datalake ${name} needs a one-line summary`);
    }
    assert.deepStrictEqual(pkg.bin, { datalake: "bin/datalake.js" });
  });

  it("names the Pulumi program in Pulumi.yaml, since package.json's main and exports name the library (Pulumi would run that)", () => {
    const project = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { main?: string };
    assert.strictEqual(project.main, "index.ts");
    assert.ok(fs.existsSync(path.join(ROOT, "index.ts")));
    assert.strictEqual(pkg.main, "dist/lib/index.js");
    assert.deepStrictEqual(pkg.exports["."], { types: "./dist/lib/index.d.ts", default: "./dist/lib/index.js" });
  });

  it("declares as dependencies every package the built code loads at run time", () => {
    const build = fs.readFileSync(path.join(ROOT, "tsconfig.build.json"), "utf8");
    assert.match(build, /"include": \["lib\/\*\*\/\*\.ts", "apps\/\*\*\/\*\.ts", "local\/\*\*\/\*\.ts", "model\/\*\*\/\*\.ts"\]/);
    const excluded = (file: string) => file.startsWith(path.join("apps", "policy-check")) || file === path.join("model", "processor", "lambda.ts");
    const files = ["lib", "apps", "local", "model"].flatMap(sources).filter((f) => !excluded(f));
    const builtins = new Set(builtinModules);
    const missing = new Set<string>();
    for (const file of files) {
      const text = fs.readFileSync(path.join(ROOT, file), "utf8");
      // Value imports (type-only ones are erased), dynamic imports, require and require.resolve.
      const specifiers = [
        ...[...text.matchAll(/^import (?!type )[^;]*? from "([^"]+)"/gm)].map((m) => m[1]),
        ...[...text.matchAll(/(?:import|require|require\.resolve)\("([^"]+)"\)/g)].map((m) => m[1]),
      ];
      for (const spec of specifiers) {
        if (spec.startsWith(".") || spec.startsWith("node:") || builtins.has(spec.split("/")[0])) continue;
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
        if (!pkg.dependencies[name]) missing.add(`${name} (${file})`);
      }
    }
    assert.deepStrictEqual([...missing], [], "the installed package would fail to load these");
    assert.deepStrictEqual(pkg.files, ["bin/", "dist/", "Pulumi.yaml", "Pulumi.*.yaml"]);
  });
});
