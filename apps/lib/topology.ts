/**
 * Reads a stack's topology from `Pulumi.<stack>.yaml` with exactly the validation `pulumi up` applies,
 * so the local lake has the same segments and physical names as the deployed one.
 */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { CONFIG_KEY, LakeConfig, LakeConfigError, parseLakeConfig } from "../../model/config";
import { UserError } from "./errors";

/**
 * The project folder: the nearest folder above this file that holds Pulumi.yaml, so the same code finds the
 * stack files from its sources (`apps/lib/`) and compiled (`dist/apps/lib/` of the built or installed package).
 */
export const PROJECT_DIR = findProjectDir(__dirname);

/**
 * The folder `.datalake/` (local lake state, replay checkpoints, demo runs) is kept in: the project folder in
 * a checkout; the current folder when the project is an installed package (under node_modules), which an
 * app must not write into (`npm ci` would delete it).
 */
export const DATA_DIR = path.join(PROJECT_DIR.split(path.sep).includes("node_modules") ? process.cwd() : PROJECT_DIR, ".datalake");

function findProjectDir(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, "..", "..");
  }
}

/** Stack whose topology the local lake uses: DATALAKE_STACK, else "dev". */
export function localStackName(env: NodeJS.ProcessEnv = process.env): string {
  return env.DATALAKE_STACK ?? "dev";
}

/** The folder of a stack's local lake: DATALAKE_LOCAL_DIR, else `<DATA_DIR>/local/<stack>`. */
export function localLakeDir(stack: string = localStackName(), env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.DATALAKE_LOCAL_DIR || path.join(DATA_DIR, "local", stack));
}

/** The stack's `aws:region`, or undefined when its stack file sets none. */
export function stackRegion(stack: string = localStackName(), projectDir: string = PROJECT_DIR): string | undefined {
  const stackFile = readYaml(path.join(projectDir, `Pulumi.${stack}.yaml`)) as { config?: Record<string, unknown> } | null;
  const region = stackFile?.config?.["aws:region"];
  return typeof region === "string" && region ? region : undefined;
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new UserError(`cannot read ${file}; the local lake needs the stack file (set DATALAKE_STACK to pick another stack)`);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new UserError(`${file} is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
}

/** Loads and validates the topology of `stack` from `Pulumi.<stack>.yaml` in `projectDir`. */
export function loadStackTopology(stack: string = localStackName(), projectDir: string = PROJECT_DIR): LakeConfig {
  const project = readYaml(path.join(projectDir, "Pulumi.yaml")) as { name?: string } | null;
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  const stackFile = readYaml(file) as { config?: Record<string, unknown> } | null;
  const raw = stackFile?.config?.[CONFIG_KEY];
  try {
    return parseLakeConfig(raw, { project: project?.name ?? "datalake", stack });
  } catch (err) {
    if (err instanceof LakeConfigError) throw new UserError(`${path.basename(file)}: ${err.message}`);
    throw err;
  }
}
