/**
 * Loads the stack's topology for `index.ts`: reads `datalake:lake`, validates it, and turns a bad config
 * into a `pulumi.RunError`, which the CLI prints as the message alone (no stack trace).
 */
import * as pulumi from "@pulumi/pulumi";
import { LakeConfig, LakeConfigError, parseLakeConfig, ParseContext } from "../model/config";

/** Validates a raw `datalake:lake` value; a `LakeConfigError` becomes a `pulumi.RunError` with the same message. */
export function loadLakeConfig(raw: unknown, ctx: ParseContext): LakeConfig {
  try {
    return parseLakeConfig(raw, ctx);
  } catch (err) {
    if (err instanceof LakeConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

/** The current stack's topology (`datalake:lake`), validated, with defaults applied. */
export function readStackLakeConfig(): LakeConfig {
  let raw: unknown;
  try {
    raw = new pulumi.Config("datalake").getObject<unknown>("lake");
  } catch (err) {
    // getObject throws when the value is not JSON (e.g. set with `pulumi config set` without --path).
    throw new pulumi.RunError(`Invalid datalake:lake config: ${(err as Error).message}`);
  }
  // The stack's region: a backup region must differ from it (and share its partition).
  const region = new pulumi.Config("aws").get("region");
  return loadLakeConfig(raw, { project: pulumi.getProject(), stack: pulumi.getStack(), region });
}
