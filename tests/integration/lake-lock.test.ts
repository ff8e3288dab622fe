/**
 * The local lake's lock under real kills: a holder killed with kill -9 (gone, or a zombie nobody reaps),
 * a pid reused by another program, and several processes racing for one stale lock: exactly one wins,
 * every time. Real processes.
 */
import * as assert from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { processStartTime, readLock, takeLock } from "../../local/lake-lock";
import { PROJECT_DIR, RUN_TS, TS_NODE_REGISTER } from "../helpers/run-app";

const HOLDER = path.join(PROJECT_DIR, "tests", "helpers", "lock-holder.ts");

/** Starts a lock holder on `dir`; resolves with its first line ("locked <pid>" or "busy <pid>"). */
function holder(dir: string): { child: ChildProcess; line: Promise<string> } {
  const child = spawn(process.execPath, [RUN_TS, HOLDER, dir], { cwd: PROJECT_DIR, stdio: ["ignore", "pipe", "inherit"] });
  const line = new Promise<string>((resolve) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("\n")) resolve(out.trim());
    });
    child.once("exit", () => resolve(out.trim() || "exited"));
  });
  return { child, line };
}

const gone = (child: ChildProcess) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once("exit", r)));

describe("the local lake's lock under real kills", function () {
  this.timeout(300_000);
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-lock-"))));
  afterEach(() => {
    for (const c of children.splice(0)) c.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a live holder refuses a second process; after kill -9 the next one takes it, 6 times over", async () => {
    for (let round = 0; round < 6; round++) {
      const first = holder(dir);
      children.push(first.child);
      assert.match(await first.line, /^locked \d+$/, `round ${round}`);
      const second = holder(dir);
      children.push(second.child);
      assert.strictEqual(await second.line, `busy ${first.child.pid}`, `round ${round}: a live holder keeps the lock`);
      first.child.kill("SIGKILL");
      await gone(first.child);
    }
    const last = holder(dir);
    children.push(last.child);
    assert.match(await last.line, /^locked \d+$/);
  });

  it("several processes racing for one stale lock: exactly one wins, every time", async () => {
    for (let round = 0; round < 5; round++) {
      const stale = holder(dir);
      assert.match(await stale.line, /^locked/);
      stale.child.kill("SIGKILL");
      await gone(stale.child);
      const racers = Array.from({ length: 4 }, () => holder(dir));
      children.push(...racers.map((r) => r.child));
      const lines = await Promise.all(racers.map((r) => r.line));
      const winners = lines.filter((l) => l.startsWith("locked"));
      assert.strictEqual(winners.length, 1, `round ${round}: ${lines.join(" | ")}`);
      const winner = Number(winners[0].split(" ")[1]);
      assert.ok(lines.filter((l) => l.startsWith("busy")).every((l) => l === `busy ${winner}`), `round ${round}: ${lines.join(" | ")}`);
      assert.strictEqual(readLock(path.join(dir, "lock"))?.pid, winner);
      for (const r of racers) r.child.kill("SIGKILL");
      await Promise.all(racers.map((r) => gone(r.child)));
    }
  });

  it("a holder killed but never reaped (a zombie) does not hold the lock", async function () {
    if (spawnSync("python3", ["-c", "import os"]).status !== 0) this.skip();
    // A parent that forks the holder and never waits for it, as a container without an init does.
    const script = [
      "import os, sys, time",
      "pid = os.fork()",
      `if pid == 0: os.execv(sys.argv[1], [sys.argv[1], "-r", sys.argv[2], sys.argv[3], sys.argv[4]])`,
      "print(pid, flush=True)",
      "time.sleep(120)",
    ].join("\n");
    const parent = spawn("python3", ["-c", script, process.execPath, TS_NODE_REGISTER, HOLDER, dir], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(parent);
    const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once("data", (c: Buffer) => resolve(c.toString().split("\n")[0]))));
    const deadline = Date.now() + 30_000;
    while (readLock(path.join(dir, "lock"))?.pid !== pid) {
      assert.ok(Date.now() < deadline, "the forked holder never took the lock");
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(pid, "SIGKILL");
    while (!/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))) await new Promise((r) => setTimeout(r, 20));
    const next = holder(dir);
    children.push(next.child);
    assert.match(await next.line, /^locked \d+$/, "a zombie's lock is stale");
  });

  it("a lock whose pid now belongs to another program is stale; one whose pid is gone too", async () => {
    const other = spawn("sleep", ["60"]);
    children.push(other);
    const lock = path.join(dir, "lock");
    fs.mkdirSync(dir, { recursive: true });
    // The pid of a running program, but not the start time the lake recorded: the pid was reused.
    fs.writeFileSync(lock, JSON.stringify({ pid: other.pid, startTime: String(Number(processStartTime(other.pid!)) - 1), holder: "npm run local-lake" }));
    takeLock(dir, "test", () => "busy").release();
    fs.writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 7, holder: "npm run local-lake" })); // above Linux's pid_max
    takeLock(dir, "test", () => "busy").release();
    // The same program with its recorded start time holds it.
    fs.writeFileSync(lock, JSON.stringify({ pid: other.pid, startTime: processStartTime(other.pid!), holder: "npm run local-lake" }));
    assert.throws(() => takeLock(dir, "test", (o) => `busy ${o.pid}`), new RegExp(`busy ${other.pid}`));
  });
});
