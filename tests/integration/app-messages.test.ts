/**
 * The same mistake gets the same one-line answer from every app, run as a user runs them: an unknown
 * stack lists the stacks found, an upper-case address says the names are lower case, and a time of day
 * without a zone is refused with the fix (never read in the machine's zone). No AWS, no lake: each app
 * stops at the mistake before it starts anything.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runApp } from "../helpers/run-app";

describe("apps' messages for common mistakes", function () {
  this.timeout(120_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-messages-"));
  // No AWS setting at all: the apps would use the embedded local lake (in a folder of this test's own).
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: dir,
    AWS_EC2_METADATA_DISABLED: "true",
    DATALAKE_LOCAL_DIR: path.join(dir, "local"),
    ...extra,
  });
  const checkpoint = path.join(dir, "checkpoint.json");
  before(() => fs.writeFileSync(checkpoint, JSON.stringify({ version: 1, stream: "datalake-dev-ingest-persons", shards: {} })));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The app's last stderr line, after checking it exited 2 with exactly one error line. */
  async function usageError(entry: string, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<string> {
    const run = await runApp(entry, args, env(extra));
    assert.strictEqual(run.code, 2, `${entry} ${args.join(" ")}: ${run.stderr}`);
    const errors = run.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.strictEqual(errors.length, 1, run.stderr);
    assert.doesNotMatch(run.stderr, /MaxListenersExceededWarning|\n\s+at /);
    return errors[0];
  }

  const UNKNOWN_STACK = /^error: unknown stack "nope": there is no Pulumi\.nope\.yaml in .*; the stacks found are dev, prod \(choose one with --stack or DATALAKE_STACK\)$/;

  const byFlag: Array<[string, string[]]> = [
    ["apps/diagram/main.ts", ["--stack", "nope"]],
    ["apps/query/main.ts", ["--stack", "nope", "SELECT 1"]],
    ["apps/local-lake/main.ts", ["--stack", "nope"]],
    ["apps/demo/main.ts", ["--stack", "nope", "--out", path.join(dir, "demo")]],
  ];
  for (const [entry, args] of byFlag) {
    it(`${path.basename(path.dirname(entry))} --stack nope lists the stacks found`, async () => {
      assert.match(await usageError(entry, args), UNKNOWN_STACK);
    });
  }
  it("demo --stack nope leaves no folder behind", () => assert.ok(!fs.existsSync(path.join(dir, "demo"))));

  const byEnv: Array<[string, string[]]> = [
    ["apps/publish/main.ts", ["--segment", "ingest/persons"]],
    ["apps/publisher/main.ts", ["--segment", "ingest/persons", "--count", "1"]],
    ["apps/subscriber/main.ts", ["--segment", "ingest/persons", "--max", "1"]],
    ["apps/replay/main.ts", ["--segment", "ingest/persons", "--into", "curated/adults", "--from", "2026-11-26T10:00:00Z", "--to", "2026-11-26T11:00:00Z"]],
    ["apps/lag/main.ts", ["--segment", "ingest/persons", "--checkpoint", checkpoint]],
  ];
  for (const [entry, args] of byEnv) {
    it(`${path.basename(path.dirname(entry))} with DATALAKE_STACK=nope lists the stacks found`, async () => {
      assert.match(await usageError(entry, args, { DATALAKE_STACK: "nope" }), UNKNOWN_STACK);
    });
  }

  const upperCase: Array<[string, string[], string]> = [
    ["apps/publish/main.ts", ["--segment", "Ingest/Persons"], "--segment"],
    ["apps/publisher/main.ts", ["--segment", "Ingest/Persons", "--count", "1"], "--segment"],
    ["apps/subscriber/main.ts", ["--segment", "Ingest/Persons"], "--segment"],
    ["apps/lag/main.ts", ["--segment", "Ingest/Persons", "--checkpoint", checkpoint], "--segment"],
    ["apps/demo/main.ts", ["--segment", "Ingest/Persons", "--out", path.join(dir, "demo")], "--segment"],
    ["apps/replay/main.ts", ["--segment", "Ingest/Persons", "--into", "curated/adults", "--from", "2026-11-26", "--to", "2026-11-27"], "--segment"],
    ["apps/replay/main.ts", ["--segment", "ingest/persons", "--into", "Curated/Adults", "--from", "2026-11-26", "--to", "2026-11-27"], "--into"],
  ];
  for (const [entry, args, flag] of upperCase) {
    it(`${path.basename(path.dirname(entry))} ${flag} with upper case says the names are lower case`, async () => {
      const value = args[args.indexOf(flag) + 1];
      const line = await usageError(entry, args);
      assert.strictEqual(line, `error: ${flag} "${value}": layer and segment names are lower case; use ${value.toLowerCase()}`);
    });
  }

  it("a time of day without a zone is refused the same way by subscribe and replay", async () => {
    const sub = await usageError("apps/subscriber/main.ts", ["--segment", "ingest/persons", "--from", "2026-11-26T10:00"]);
    assert.match(sub, /'2026-11-26T10:00' is invalid\. it has no time zone, and times are not read in this machine's zone; add Z for UTC or an offset: 2026-11-26T10:00Z\.$/);
    const rep = await usageError("apps/replay/main.ts", ["--segment", "ingest/persons", "--into", "curated/adults", "--from", "2026-11-26T10:00", "--to", "2026-11-26T11:00:00Z"]);
    assert.match(rep, /^error: --from "2026-11-26T10:00" is not a time: it has no time zone, and times are not read in this machine's zone; add Z for UTC or an offset: 2026-11-26T10:00Z/);
  });
});
