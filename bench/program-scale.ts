/**
 * One program-scale measurement in a fresh process (Pulumi's runtime is global). Builds a lake of N
 * segments under the test mocks, then, each in a fresh mock run of the same process:
 *
 * - bare: as many bare resources as the lake registered (one type, no inputs, no parent). A bare resource
 *   declares no output properties, and Pulumi's cost per resource is mostly per output property (below),
 *   so this is a floor, not a like-for-like comparison.
 * - flat: the same resources again, each of the same class with the inputs the lake gave it (resolved to
 *   plain values), at the top level: no components, no parents, no Outputs between resources. What the
 *   lake costs beyond this is what its structure costs (components, Outputs, aliases, dependencies).
 *
 * Prints one JSON line: segments, resources, then wall and CPU milliseconds of each phase (CPU time is
 * the process's user + system time; it counts Pulumi's work and the garbage collector's, and is less
 * disturbed than wall time by other work on a shared machine), and the heap in use after the lake.
 *
 *   node --expose-gc -r ts-node/register/transpile-only bench/program-scale.ts 100 [--no-flat] [--experiment no-source-maps|no-stacks]
 *
 * `--no-flat` leaves the flat phase out (it takes about as long as the lake). `--expose-gc` lets the heap
 * be measured after a collection (otherwise it is left out).
 *
 * Experiments (never the product; they show what Pulumi's stack capture costs):
 * - `no-source-maps`: stack traces are formatted by V8 alone, without ts-node's source-map-support
 *   mapping every frame (Pulumi formats one stack for each of the four promises of every output property
 *   of every resource, and one of unlimited depth per resource).
 * - `no-stacks`: no stack is captured at all (`Error.stackTraceLimit = 0`, and `Resource.callsites`,
 *   which captures one of unlimited depth per resource for its source position, answers none).
 */
import * as pulumi from "@pulumi/pulumi";
import { PerformanceObserver } from "perf_hooks";
import { buildLake, settle, startMockRun } from "../tests/helpers/pulumi-mocks";

/** A topology of `segments` segments in layers of up to 10, every one with default settings. */
export function scaleTopology(segments: number): unknown {
  const layers: Record<string, { segments: Record<string, object> }> = {};
  for (let i = 0; i < segments; i++) {
    const layer = `layer${Math.floor(i / 10)}`;
    (layers[layer] ??= { segments: {} }).segments[`seg${i}`] = {};
  }
  return { name: "scale", layers };
}

/** A resource with no inputs and no parent. */
class Bare extends pulumi.CustomResource {
  constructor(name: string) {
    super("aws:s3/bucket:Bucket", name, {});
  }
}

/** An empty component: stands in, at the top level and without children, for each of the lake's components. */
class FlatComponent extends pulumi.ComponentResource {
  constructor(type: string, name: string) {
    super(type, name, {}, {});
    this.registerOutputs({});
  }
}

type ResourceClass = new (name: string, args: Record<string, unknown>) => pulumi.CustomResource;

/**
 * The @pulumi/aws class of a type token (`aws:cloudwatch/metricAlarm:MetricAlarm` is
 * `aws.cloudwatch.MetricAlarm`), checked against the class's own `__pulumiType`.
 */
function awsClass(type: string): ResourceClass {
  const m = /^aws:([^/]+)\/[^:]+:(.+)$/.exec(type);
  // eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any
  const aws = require("@pulumi/aws") as Record<string, Record<string, any>>;
  const cls = m ? aws[m[1]]?.[m[2]] : undefined;
  if (!cls || cls.__pulumiType !== type) throw new Error(`program-scale: no @pulumi/aws class for ${type}`);
  return cls as ResourceClass;
}

/** Milliseconds the garbage collector has paused the program so far (Node's `gc` performance entries). */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ["gc"] });

/** Wall, CPU and garbage-collection milliseconds of `work`, once every registration it started has settled. */
async function timed(work: () => Promise<unknown> | void): Promise<{ ms: number; cpuMs: number; gcMs: number }> {
  const cpu = process.cpuUsage();
  const gc = gcMs;
  const t = process.hrtime.bigint();
  await work();
  await settle();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const used = process.cpuUsage(cpu);
  // Entries arrive on a later turn of the event loop.
  await new Promise((r) => setImmediate(r));
  return { ms, cpuMs: (used.user + used.system) / 1000, gcMs: gcMs - gc };
}

/** Installs an experiment's change to how stacks are captured (see the header). */
function applyExperiment(name: string | undefined): void {
  if (name === undefined) return;
  if (name === "no-source-maps" || name === "no-stacks") {
    // ts-node installed source-map-support's formatter; without one, V8 formats stacks itself.
    delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
  }
  if (name === "no-stacks") {
    Error.stackTraceLimit = 0;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (pulumi.Resource as any).callsites = () => [];
  }
  if (!["no-source-maps", "no-stacks"].includes(name)) throw new Error(`program-scale: unknown experiment ${name}`);
}

async function main(): Promise<void> {
  const segments = Number(process.argv[2] ?? 10);
  const flag = process.argv.indexOf("--experiment");
  const experiment = flag > 0 ? process.argv[flag + 1] : undefined;
  const withFlat = !process.argv.includes("--no-flat");
  applyExperiment(experiment);

  // Warm-up: load the modules (@pulumi/aws alone takes seconds) and the JIT outside the measurement.
  const warm = await buildLake(scaleTopology(1));
  for (const r of warm.resources) if (r.custom) awsClass(r.type);
  await startMockRun();
  for (let i = 0; i < 30; i++) new Bare(`warm-${i}`);
  await settle();

  let run: Awaited<ReturnType<typeof buildLake>> | undefined;
  const lake = await timed(async () => {
    run = await buildLake(scaleTopology(segments));
  });
  const declared = run!.resources.map((r) => ({ type: r.type, name: r.name, custom: r.custom, inputs: r.inputs }));
  // The heap the lake keeps once built (after a collection; null without --expose-gc).
  const gc = (global as { gc?: () => void }).gc;
  gc?.();
  const heapMiB = gc ? process.memoryUsage().heapUsed / 2 ** 20 : null;
  run = undefined;

  // The same number of bare resources (no inputs, no parents) in a fresh mock run of the same process.
  await startMockRun();
  const bare = await timed(() => {
    for (let i = 0; i < declared.length; i++) new Bare(`bare-${i}`);
  });

  // The same resources, same classes and inputs, flat (fresh mock run, so the names are free again).
  let flat: { ms: number; cpuMs: number; gcMs: number } | null = null;
  if (withFlat) {
    await startMockRun();
    flat = await timed(() => {
      for (const r of declared) {
        if (r.custom) new (awsClass(r.type))(r.name, r.inputs);
        else new FlatComponent(r.type, r.name);
      }
    });
  }

  const result = {
    segments,
    resources: declared.length,
    experiment: experiment ?? null,
    lakeMs: lake.ms,
    lakeCpuMs: lake.cpuMs,
    lakeGcMs: lake.gcMs,
    bareMs: bare.ms,
    bareCpuMs: bare.cpuMs,
    flatMs: flat?.ms ?? null,
    flatCpuMs: flat?.cpuMs ?? null,
    heapMiB,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`program-scale failed: ${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
