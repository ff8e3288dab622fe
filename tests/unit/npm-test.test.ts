/**
 * `npm test` (scripts/test.js) ends with one line that totals every mocha run, in the plain form CI tools
 * read ("tests: N passed, N failed"), stops at a failing step as `&&` did, and exits non-zero then.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { runNode, PROJECT_DIR } from "../helpers/run-app";

const SCRIPT = path.join(PROJECT_DIR, "scripts", "test.js");
const step = (text: string, code = 0) => ["node", "-e", `process.stdout.write(${JSON.stringify(text)}); process.exit(${code})`];

describe("npm test's closing line", function () {
  this.timeout(30_000);

  it("is what the test script runs", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as { scripts: Record<string, string> };
    assert.strictEqual(pkg.scripts.test, "node scripts/test.js");
  });

  it("totals the unit and integration runs in one last line", async () => {
    const steps = [step("ok\n"), step("\n  640 passing (41s)\n  3 pending\n"), step("\n  181 passing (2m)\n")];
    const run = await runNode([SCRIPT], { ...process.env, DATALAKE_TEST_STEPS: JSON.stringify(steps) });
    assert.strictEqual(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.strictEqual(lines.at(-1), "tests: 821 passed, 0 failed, 3 skipped");
  });

  it("stops at a failing step, counts its failures, and exits non-zero", async () => {
    const steps = [step("\n  10 passing\n  2 failing\n", 2), step("\n  99 passing\n")];
    const run = await runNode([SCRIPT], { ...process.env, DATALAKE_TEST_STEPS: JSON.stringify(steps) });
    assert.strictEqual(run.code, 2);
    assert.strictEqual(run.stdout.trim().split("\n").at(-1), "tests: 10 passed, 2 failed");
    const typeError = await runNode([SCRIPT], { ...process.env, DATALAKE_TEST_STEPS: JSON.stringify([step("error TS2322\n", 1), step("\n  5 passing\n")]) });
    assert.strictEqual(typeError.code, 1);
    assert.strictEqual(typeError.stdout.trim().split("\n").at(-1), "tests: 0 passed, 1 failed");
  });
});
