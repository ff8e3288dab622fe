/**
 * Consumer group workers as real processes (`subscribe --group`), for the group tests and the bench.
 * Each worker's stdout goes to a file (so its checkpoints cover a record once it is written: no pipe
 * margin) and is read back incrementally; its stderr lines are kept with the time they arrived, so the
 * caller can tell when a shard was taken and from which checkpoint its reader started.
 *
 * The lines this reads are the worker's own log (apps/subscriber/group.ts, runtime/leases/coordinator.ts):
 *   "<worker>: took <shard>"  or  "<worker>: took <shard> (expired, from <previous owner>)"
 *   "group <group>: reading <shard> from <checkpoint>"
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const PROJECT_DIR = path.resolve(__dirname, "..");

export interface GroupWorkerSpec {
  /** Folder for `<id>.out` (the worker's stdout). */
  dir: string;
  /** The worker's whole environment (the target: catalog, endpoints). */
  env: NodeJS.ProcessEnv;
  /** leaseOwner in the table (`--worker-id`). */
  id: string;
  segment: string;
  group: string;
  leaseSeconds: number;
  /** More subscriber flags. @default ["--from", "trim-horizon"] */
  args?: string[];
}

export interface LogLine {
  /** Date.now() when the line arrived. */
  t: number;
  line: string;
}

/** A shard reader this worker started: when, from which checkpoint, and whether it took the lease from a worker that stopped renewing. */
export interface ShardStart {
  t: number;
  worker: string;
  shardId: string;
  checkpoint: string;
  /** The previous owner when the lease was taken expired (a takeover); undefined for a free lease. */
  takenFrom: string | undefined;
}

export class GroupWorkerProcess {
  readonly id: string;
  readonly child: ChildProcess;
  readonly outFile: string;
  readonly log: LogLine[] = [];
  readonly exited: Promise<number | string>;
  readonly startedAt = Date.now();
  private readonly group: string;
  private offset = 0;
  private rest = "";
  private errRest = "";

  constructor(spec: GroupWorkerSpec) {
    this.id = spec.id;
    this.group = spec.group;
    this.outFile = path.join(spec.dir, `${spec.id}.out`);
    const outFd = fs.openSync(this.outFile, "w");
    const args = [
      ...["--segment", spec.segment, "--group", spec.group, "--worker-id", spec.id, "--lease-seconds", String(spec.leaseSeconds)],
      ...(spec.args ?? ["--from", "trim-horizon"]),
    ];
    this.child = spawn(process.execPath, [path.join(PROJECT_DIR, "scripts", "run-ts.js"), "apps/subscriber/main.ts", ...args], {
      cwd: PROJECT_DIR,
      env: spec.env,
      stdio: ["ignore", outFd, "pipe"],
    });
    fs.closeSync(outFd);
    this.child.stderr!.on("data", (chunk: Buffer) => {
      const t = Date.now();
      const parts = (this.errRest + chunk.toString()).split("\n");
      this.errRest = parts.pop()!;
      for (const line of parts) this.log.push({ t, line });
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  }

  /** Whole lines written to stdout since the last call. */
  newLines(): string[] {
    const fd = fs.openSync(this.outFile, "r");
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) return [];
      const buf = Buffer.alloc(size - this.offset);
      const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const parts = (this.rest + buf.subarray(0, n).toString("utf8")).split("\n");
      this.rest = parts.pop()!;
      return parts.filter(Boolean);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The stderr log as text (for failure messages). */
  get stderr(): string {
    return this.log.map((l) => l.line).join("\n");
  }

  /** Every shard reader this worker started, in order, with the take that preceded it. */
  shardStarts(): ShardStart[] {
    const took = new Map<string, string | undefined>();
    const starts: ShardStart[] = [];
    const takeLine = new RegExp(`^${escape(this.id)}: took (\\S+)(?: \\(expired, from (\\S+)\\))?$`);
    const readLine = new RegExp(`^group ${escape(this.group)}: reading (\\S+) from (\\S+)$`);
    for (const { t, line } of this.log) {
      const take = takeLine.exec(line);
      if (take) took.set(take[1], take[2]);
      const read = readLine.exec(line);
      if (read) {
        starts.push({ t, worker: this.id, shardId: read[1], checkpoint: read[2], takenFrom: took.get(read[1]) });
        took.delete(read[1]);
      }
    }
    return starts;
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
