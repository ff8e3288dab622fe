/** Section 6: program scale, lakes of N segments under Pulumi mocks (each size in bench/program-scale.ts). */
import { spawn } from "child_process";
import * as path from "path";
import { quick } from "./options";
import { fmt, pct, say } from "./report";

interface ProgramScale {
  segments: number;
  resources: number;
  lakeMs: number;
  lakeCpuMs: number;
  lakeGcMs: number;
  bareMs: number;
  bareCpuMs: number;
  flatMs: number | null;
  flatCpuMs: number | null;
  heapMiB: number | null;
}

/** One size in a fresh process (bench/program-scale.ts); room for the heap of a 500-segment lake. */
function runProgramScale(segments: number, extra: string[] = []): Promise<ProgramScale> {
  return new Promise((resolve, reject) => {
    const node = ["--expose-gc", "--max-old-space-size=8192", "-r", "ts-node/register/transpile-only"];
    const child = spawn(process.execPath, [...node, "bench/program-scale.ts", String(segments), ...extra], {
      cwd: path.join(__dirname, "..", ".."),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop()!)) : reject(new Error(`program-scale ${segments}: ${err.trim().split("\n").slice(-3).join(" | ")}`))));
  });
}

/** 6. Program scale under Pulumi mocks. */
export async function program(): Promise<void> {
  say("## 6. Program scale: lakes of N segments under Pulumi mocks");
  say();
  say("Each size in a fresh process: the lake (default segment settings, layers of 10), then in the same process as many");
  say("bare resources (one type, no inputs, no parent), then the lake's own resources flat (same classes and inputs, plain");
  say("values, no components, parents or Outputs between them). A bare resource declares no output properties, and Pulumi's");
  say("cost per resource is mostly per output property, so lake ÷ bare is not like for like; lake ÷ flat is what the lake's");
  say("structure costs. CPU ms is the process's user + system time (garbage collection included); ratios are given as wall time,");
  say("then CPU time, which other work on a shared machine disturbs less. A size run more than once shows the run whose lake");
  say("took the least CPU time (other work inflates both wall and CPU time here, never deflates them).");
  say();
  say("| segments | runs | resources | per segment | lake ms | ms per segment | CPU ms per segment | bare ms | lake ÷ bare | flat ms | lake ÷ flat | heap kept, MiB |");
  say("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  // The flat phase takes about as long as the lake: left out at 500 segments to keep the bench shorter.
  const sizes: [segments: number, runs: number][] = quick ? [[10, 1], [30, 1]] : [[10, 3], [100, 2], [500, 1]];
  /** Wall-time ratio, then CPU-time ratio. */
  const ratio = (a: number, b: number, c: number, d: number) => `${(a / b).toFixed(1)}× / ${(c / d).toFixed(1)}×`;
  const rows = [];
  for (const [n, runs] of sizes) {
    let r: ProgramScale | undefined;
    for (let i = 0; i < runs; i++) {
      const one = await runProgramScale(n, n >= 500 ? ["--no-flat"] : []);
      if (!r || one.lakeCpuMs < r.lakeCpuMs) r = one;
    }
    if (!r) throw new Error(`program-scale ${n}: no run`);
    rows.push(r);
    const flat = r.flatMs === null || r.flatCpuMs === null ? "| — | — " : `| ${fmt(r.flatMs)} | ${ratio(r.lakeMs, r.flatMs, r.lakeCpuMs, r.flatCpuMs)} `;
    const heap = r.heapMiB === null ? "—" : fmt(r.heapMiB);
    say(`| ${n} | ${runs} | ${r.resources} | ${(r.resources / n).toFixed(1)} | ${fmt(r.lakeMs)} | ${fmt(r.lakeMs / n)} | ${fmt(r.lakeCpuMs / n)} | ${fmt(r.bareMs)} | ${ratio(r.lakeMs, r.bareMs, r.lakeCpuMs, r.bareCpuMs)} ${flat}| ${heap} |`);
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  say();
  say(
    `Growth: ${((last.lakeMs / last.segments) / (first.lakeMs / first.segments)).toFixed(2)}× the time per segment at ${last.segments} segments as at ${first.segments}` +
      ` (CPU time: ${((last.lakeCpuMs / last.segments) / (first.lakeCpuMs / first.segments)).toFixed(2)}×; linear would be 1).` +
      ` Garbage collection paused the lake ${fmt(first.lakeGcMs / first.segments)} ms per segment at ${first.segments} segments` +
      ` (${pct(first.lakeGcMs / first.lakeMs)} of its time), ${fmt(last.lakeGcMs / last.segments)} at ${last.segments} (${pct(last.lakeGcMs / last.lakeMs)}).`,
  );
  if (!quick) {
    // Side experiments, never the product: what Pulumi's stack capture (and ts-node's source maps) cost.
    const n = 100;
    const base = rows.find((r) => r.segments === n)!;
    const noMaps = await runProgramScale(n, ["--experiment", "no-source-maps"]);
    const noStacks = await runProgramScale(n, ["--experiment", "no-stacks"]);
    const share = (x: ProgramScale) => pct(1 - x.lakeCpuMs / base.lakeCpuMs);
    say();
    say(`Experiments at ${n} segments (not the product): Pulumi captures a stack trace for each of the four promises of every output`);
    say("property of every resource and one of unlimited depth per resource, and ts-node's source-map-support maps every frame.");
    say(`- stacks formatted by V8 without source maps: lake ${fmt(noMaps.lakeCpuMs / n)} CPU ms per segment (${share(noMaps)} less), lake ÷ bare ${ratio(noMaps.lakeMs, noMaps.bareMs, noMaps.lakeCpuMs, noMaps.bareCpuMs)}, lake ÷ flat ${ratio(noMaps.lakeMs, noMaps.flatMs!, noMaps.lakeCpuMs, noMaps.flatCpuMs!)}`);
    say(`- no stacks captured at all: lake ${fmt(noStacks.lakeCpuMs / n)} CPU ms per segment (${share(noStacks)} less), lake ÷ bare ${ratio(noStacks.lakeMs, noStacks.bareMs, noStacks.lakeCpuMs, noStacks.bareCpuMs)}, lake ÷ flat ${ratio(noStacks.lakeMs, noStacks.flatMs!, noStacks.lakeCpuMs, noStacks.flatCpuMs!)}`);
  }
  say();
}
