/**
 * `npm run -s policy-check` as a user runs it: the dev and prod stacks pass (exit 0, nothing on stdout);
 * a program with a violation exits 1 and names the rule and the resource on stdout; a bad stack is one
 * line and exit 2.
 */
import * as assert from "assert";
import { runApp } from "../../helpers/run-app";

const check = (args: string[]) => runApp("apps/policy-check/main.ts", args, { ...process.env });

describe("policy-check CLI", function () {
  this.timeout(120_000);

  for (const stack of ["dev", "prod"]) {
    it(`passes the ${stack} stack`, async () => {
      const r = await check(["--stack", stack]);
      assert.strictEqual(r.code, 0, r.stdout + r.stderr);
      assert.strictEqual(r.stdout, "");
      assert.match(r.stderr, new RegExp(`stack ${stack} passes all 17 rules`));
    });
  }

  it("exits 1 and names the rule and the resource of a violation", async () => {
    const r = await check(["--stack", "dev", "--program", "tests/unit/ops/fixtures/unencrypted-stream-program.ts"]);
    assert.strictEqual(r.code, 1, r.stderr);
    assert.match(r.stdout, /^\[streams-encrypted-with-cmk\] aws:kinesis\/stream:Stream careless-stream: stream encryptionType is "NONE"/m);
    assert.match(r.stderr, /violation\(s\)/);
  });

  it("refuses an unknown stack in one line with exit 2", async () => {
    const r = await check(["--stack", "nope"]);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr.trim().split("\n").pop()!, /^error: unknown stack "nope": there is no Pulumi\.nope\.yaml .*the stacks found are .*dev/);
  });
});
