/**
 * One program-scale measurement in a fresh process (Pulumi's runtime is global): builds a lake of N
 * segments under the test mocks, then declares as many bare resources as the lake registered, and prints
 * one JSON line: segments, resources, ms for the lake, ms for the bare resources.
 *
 *   ts-node --transpile-only bench/program-scale.ts 100 [--cpu-prof]
 */
import * as pulumi from "@pulumi/pulumi";
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

async function main(): Promise<void> {
  const segments = Number(process.argv[2] ?? 10);
  // Warm-up: load the modules (@pulumi/aws alone takes seconds) and the JIT outside the measurement.
  await buildLake(scaleTopology(1));
  await startMockRun();
  for (let i = 0; i < 30; i++) new Bare(`warm-${i}`);
  await settle();
  let t = process.hrtime.bigint();
  const run = await buildLake(scaleTopology(segments));
  const lakeMs = Number(process.hrtime.bigint() - t) / 1e6;
  const resources = run.resources.length;

  // The same number of bare resources (no inputs, no parents) in a fresh mock run of the same process.
  await startMockRun();
  t = process.hrtime.bigint();
  for (let i = 0; i < resources; i++) new Bare(`bare-${i}`);
  await settle();
  const bareMs = Number(process.hrtime.bigint() - t) / 1e6;
  process.stdout.write(`${JSON.stringify({ segments, resources, lakeMs, bareMs })}\n`);
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
