/**
 * The code package of every processor: the handler (runtime/processor/lambda.ts and what it imports, the
 * AWS SDK clients included) bundled by esbuild at program time with fixed options, plus the route's
 * spec as `spec.json`. No timestamps, no absolute paths, no source maps: the same source gives the same
 * bytes, so `pulumi preview` shows no code change when nothing changed.
 */
import * as esbuild from "esbuild";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ProcessorSpec } from "../model/processor/spec";

/** The repository root: esbuild's working directory, so bundle comments hold relative paths only. */
const ROOT = path.resolve(__dirname, "..");

/** The Lambda runtime the bundle targets and the functions use. */
export const PROCESSOR_RUNTIME = "nodejs22.x";
/** `<file>.<export>` of the handler inside the package. */
export const PROCESSOR_HANDLER = "index.handle";

let cached: string | undefined;

/** The bundled handler as JavaScript text (built once per program run). @throws Error when esbuild fails */
export function bundleProcessorHandler(): string {
  cached ??= buildProcessorHandler();
  return cached;
}

/** Runs esbuild on the handler (no cache): the same source gives the same text. @throws Error when esbuild fails */
export function buildProcessorHandler(): string {
  const result = esbuild.buildSync({
    absWorkingDir: ROOT,
    entryPoints: ["runtime/processor/lambda.ts"],
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    write: false,
    sourcemap: false,
    minify: false,
    legalComments: "none",
    charset: "utf8",
    logLevel: "silent",
  });
  if (result.outputFiles.length !== 1) throw new Error(`esbuild produced ${result.outputFiles.length} files for the processor handler, expected 1`);
  return result.outputFiles[0].text;
}

/** The files of a processor's package: the bundle and the route's spec (both plain text). */
export function processorPackageFiles(spec: ProcessorSpec): Record<string, string> {
  return { "index.js": bundleProcessorHandler(), "spec.json": `${JSON.stringify(spec, null, 2)}\n` };
}

/** The package as a Pulumi archive of string assets. */
export function processorArchive(spec: ProcessorSpec): pulumi.asset.AssetArchive {
  const files = processorPackageFiles(spec);
  return new pulumi.asset.AssetArchive(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, new pulumi.asset.StringAsset(text)])));
}
