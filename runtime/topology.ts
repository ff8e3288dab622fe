/**
 * Reads a stack's topology from `Pulumi.<stack>.yaml` with exactly the validation `pulumi up` applies,
 * so the local lake has the same segments and physical names as the deployed one.
 */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { CONFIG_KEY, LakeConfig, LakeConfigError, parseLakeConfig } from "../model/config";
import { UserError } from "./errors";

/**
 * The project folder: the nearest folder above this file that holds Pulumi.yaml, so the same code finds the
 * stack files from its sources (`runtime/`) and compiled (`dist/runtime/` of the built or installed package).
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
    if (path.dirname(dir) === dir) return path.resolve(from, "..");
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

/** The stacks that have a `Pulumi.<stack>.yaml` in `projectDir`, sorted. */
export function stacksIn(projectDir: string = PROJECT_DIR): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(projectDir);
  } catch {
    return [];
  }
  return names
    .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/**
 * The stack file of `stack`, or a user error that lists the stacks found (the same line in every app,
 * whether the name came from --stack or DATALAKE_STACK).
 */
export function stackFile(stack: string, projectDir: string = PROJECT_DIR): string {
  const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
  if (fs.existsSync(file)) return file;
  const known = stacksIn(projectDir);
  throw new UserError(
    `unknown stack "${stack}": there is no Pulumi.${stack}.yaml in ${projectDir}; the stacks found are ${known.join(", ") || "none"} (choose one with --stack or DATALAKE_STACK)`,
  );
}

/** The stack's `aws:region`, or undefined when its stack file sets none. */
export function stackRegion(stack: string = localStackName(), projectDir: string = PROJECT_DIR): string | undefined {
  const content = readYaml(stackFile(stack, projectDir)) as { config?: Record<string, unknown> } | null;
  const region = content?.config?.["aws:region"];
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
  const file = stackFile(stack, projectDir);
  const content = readYaml(file) as { config?: Record<string, unknown> } | null;
  const raw = content?.config?.[CONFIG_KEY];
  try {
    const region = content?.config?.["aws:region"];
    return parseLakeConfig(raw, { project: project?.name ?? "datalake", stack, region: typeof region === "string" ? region : undefined });
  } catch (err) {
    if (err instanceof LakeConfigError) throw new UserError(`${path.basename(file)}: ${err.message}`);
    throw err;
  }
}
