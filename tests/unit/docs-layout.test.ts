/**
 * docs/layout.md's table matches the folders: every file and folder directly under a floor's folder is named
 * in that folder's row, and every file or folder a row names exists under it. A new module that the layout
 * omits, or a row that names a file since moved, fails here.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const FOLDERS = ["model", "runtime", "components", "policy", "local", "apps", "lib", "testkit"];

/** The layout table's rows: the path column (first backticked path) and the whole row's text. */
function rows(): Array<{ paths: string[]; text: string }> {
  const doc = fs.readFileSync(path.join(ROOT, "docs/layout.md"), "utf8");
  return doc
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| ---") && !l.startsWith("| floor"))
    .map((l) => {
      const cells = l.split(" | ");
      const paths = [...(cells[1] ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1]);
      return { paths, text: l };
    });
}

/** Every file and folder under `dir`, by name (recursively), for "does a named file exist under this row". */
function namesUnder(dir: string, out = new Set<string>()): Set<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    out.add(e.isDirectory() ? `${e.name}/` : e.name);
    if (e.isDirectory()) namesUnder(path.join(dir, e.name), out);
  }
  return out;
}

describe("docs/layout.md matches the folders", () => {
  const table = rows();

  for (const folder of FOLDERS) {
    it(`names every file and folder directly under ${folder}/, and names nothing that is not there`, () => {
      const row = table.find((r) => r.paths.some((p) => p === `${folder}/` || p.split(/,\s*/).includes(`${folder}/`)));
      assert.ok(row, `docs/layout.md has no row for ${folder}/`);
      const entries = fs.readdirSync(path.join(ROOT, folder), { withFileTypes: true }).filter((e) => !e.name.startsWith("."));
      const missing = entries
        .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
        .filter((name) => {
          const bare = name.replace(/\/$/, "").replace(/\.(ts|js)$/, "");
          // Named as `x.ts`, `x/`, `x` or inside a path such as `limits-endpoint/`.
          return !new RegExp(`\`(?:[^\`]*/)?${bare.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:\\.(?:ts|js)|/[^\`]*)?\``).test(row.text);
        });
      assert.deepEqual(missing, [], `docs/layout.md's ${folder}/ row omits ${missing.join(", ")}`);
      // A row may hold several folders (bench/, testkit/, examples/): a name may be under any of them.
      const rowFolders = row.paths.flatMap((p) => p.split(/,\s*/)).filter((p) => p.endsWith("/") && fs.existsSync(path.join(ROOT, p)));
      const present = new Set(rowFolders.flatMap((p) => [...namesUnder(path.join(ROOT, p))]));
      const named = [...row.text.matchAll(/`([^`\s]+\.(?:ts|js)|[a-z][a-z0-9-]*\/)`/g)].map((m) => m[1].split("/").filter(Boolean).pop()! + (m[1].endsWith("/") ? "/" : ""));
      const absent = named.filter((n) => !rowFolders.includes(n) && !present.has(n) && !FOLDERS.includes(n.replace(/\/$/, "")));
      assert.deepEqual(absent, [], `docs/layout.md's ${folder}/ row names ${absent.join(", ")}, which ${folder}/ does not hold`);
    });
  }
});
