/**
 * The `datalake` command (bin/datalake.js) as a user runs it, directly and through `npx datalake` in the
 * checkout: its help, its one-line refusal of an unknown command, each command being exactly its app
 * (help, exit status, stdout), and signals reaching the app itself.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { appArgs, PROJECT_DIR, runNode } from "../helpers/run-app";

const BIN = path.join(PROJECT_DIR, "bin", "datalake.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { COMMANDS } = require(BIN) as { COMMANDS: Record<string, { entry: string }> };
const NAMES = Object.keys(COMMANDS);

/** No AWS settings, no catalog: what a fresh terminal has. */
const cleanEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME ?? os.tmpdir(), AWS_EC2_METADATA_DISABLED: "true" });

/** Runs `command args` in the project folder, in its own process group; resolves with its output and how it ended. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, onStart?: (pid: number, stderr: () => string) => void) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_DIR, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    onStart?.(child.pid!, () => stderr);
  });
}

async function until(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** npm's own lines on stderr (e.g. the engine warning on Node 20) are npm's, not the app's. */
const withoutNpmNotices = (stderr: string) => stderr.split("\n").filter((l) => !/^npm (warn|notice)/.test(l)).join("\n");

describe("the datalake command", function () {
  this.timeout(180_000);

  it("--help lists every command with one line on stdout; no command prints that on stderr with exit 2", async () => {
    const help = await runNode([BIN, "--help"], cleanEnv());
    assert.strictEqual(help.code, 0);
    assert.strictEqual(help.stderr, "");
    for (const name of NAMES) assert.match(help.stdout, new RegExp(`^  ${name} +\\S.*$`, "m"));
    assert.strictEqual(help.stdout.split("\n").filter((l) => /^  \S/.test(l)).length, NAMES.length);
    const none = await runNode([BIN], cleanEnv());
    assert.strictEqual(none.code, 2);
    assert.strictEqual(none.stdout, "");
    assert.strictEqual(none.stderr, help.stdout);
  });

  it("refuses an unknown command in one line that names it and lists the commands, exit 2", async () => {
    const out = await runNode([BIN, "publsh", "--count", "3"], cleanEnv());
    assert.strictEqual(out.code, 2);
    assert.strictEqual(out.stdout, "");
    assert.strictEqual(out.stderr, `datalake: unknown command "publsh"; the commands are ${NAMES.join(", ")} (datalake --help)\n`);
  });

  it("`datalake <command> --help` is the app's own help, for every command", async () => {
    for (const name of NAMES) {
      const entry = `${COMMANDS[name].entry}.ts`;
      const [viaCommand, app] = await Promise.all([runNode([BIN, name, "--help"], cleanEnv()), runNode(appArgs(entry, ["--help"]), cleanEnv())]);
      assert.strictEqual(viaCommand.code, 0, `${name}: ${viaCommand.stderr}`);
      assert.strictEqual(viaCommand.stdout, app.stdout, `datalake ${name} --help differs from its app's`);
      assert.match(viaCommand.stdout, /^Usage: /);
    }
  });

  it("passes the arguments through untouched and keeps the app's exit status and its one-line error", async () => {
    // A usage error (2), and a stream nobody answers for (1): the same status and line as the app itself.
    for (const args of [["subscribe", "--from", "yesterday"], ["subscribe", "--stream", "s", "--endpoint", "http://127.0.0.1:9", "--call-timeout", "1"]]) {
      const [viaCommand, app] = await Promise.all([
        runNode([BIN, ...args], cleanEnv()),
        runNode(appArgs(`${COMMANDS[args[0]].entry}.ts`, args.slice(1)), cleanEnv()),
      ]);
      assert.strictEqual(viaCommand.code, app.code, viaCommand.stderr);
      assert.notStrictEqual(viaCommand.code, 0);
      assert.strictEqual(viaCommand.stderr, app.stderr);
      assert.strictEqual(viaCommand.stdout, "");
    }
  });

  describe("signals, with a stream to read", () => {
    const kinesis = useLocalKinesis();
    let stream: string;
    before(async function () {
      this.timeout(60_000);
      stream = await kinesis.createStream(kinesis.uniqueName("datalake-cmd"), 1);
    });
    const subscribeArgs = () => ["subscribe", "--stream", stream, "--endpoint", kinesis.endpoint, "--from", "latest"];

    it("SIGINT reaches the app itself (it stops cleanly, exit 0); the app runs in the datalake process, so kill -9 leaves no child behind", async () => {
      let pid = 0;
      const stopped = await run(process.execPath, [BIN, ...subscribeArgs()], cleanEnv(), (p, stderr) => {
        pid = p;
        void until("the subscriber to read", () => /reading from/.test(stderr())).then(() => process.kill(p, "SIGINT"));
      });
      assert.strictEqual(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stderr, /SIGINT: stopping/);
      assert.ok(pid > 0);

      const killed = await run(process.execPath, [BIN, ...subscribeArgs()], cleanEnv(), (p, stderr) => {
        void until("the subscriber to read", () => /reading from/.test(stderr())).then(() => {
          // The app is this very process: it has no child of its own to orphan.
          const children = fs.readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim();
          assert.strictEqual(children, "", `datalake started a child process: ${children}`);
          process.kill(p, "SIGKILL");
        });
      });
      assert.strictEqual(killed.signal, "SIGKILL");
    });

    it("`npx datalake` in the checkout: the same help on stdout with no banner, the app's exit status, and Ctrl-C (SIGINT to the group) stops the app cleanly", async () => {
      const help = await run("npx", ["datalake", "--help"], cleanEnv());
      const direct = await runNode([BIN, "--help"], cleanEnv());
      assert.strictEqual(help.code, 0, help.stderr);
      assert.strictEqual(help.stdout, direct.stdout);
      const unknown = await run("npx", ["datalake", "nope"], cleanEnv());
      assert.strictEqual(unknown.code, 2);
      assert.strictEqual(withoutNpmNotices(unknown.stderr).trim(), `datalake: unknown command "nope"; the commands are ${NAMES.join(", ")} (datalake --help)`);

      // The app stops cleanly (its summary says so); npm then ends itself by the signal it got, as it does
      // for `npm run` (a shell shows 130).
      const ctrlC = (command: string, args: string[]) =>
        run(command, args, cleanEnv(), (pgid, stderr) => {
          void until("the subscriber to read", () => /reading from/.test(stderr())).then(() => process.kill(-pgid, "SIGINT"));
        });
      const [viaNpx, viaNpmRun] = await Promise.all([ctrlC("npx", ["datalake", ...subscribeArgs()]), ctrlC("npm", ["run", "-s", ...subscribeArgs().slice(0, 1), "--", ...subscribeArgs().slice(1)])]);
      for (const interrupted of [viaNpx, viaNpmRun]) {
        assert.match(interrupted.stderr, /SIGINT: stopping[^]*summary: 0 records .* stopped: interrupted/, interrupted.stderr);
        assert.strictEqual(interrupted.stdout, "");
      }
      assert.strictEqual(viaNpx.signal, viaNpmRun.signal);
      assert.strictEqual(viaNpx.code, viaNpmRun.code);
    });
  });
});
