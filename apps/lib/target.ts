/**
 * Which stream the apps talk to, and where. In the order of the design contract:
 *   1. `--stream NAME` or KINESIS_STREAM_NAME;
 *   2. `--segment ADDRESS` resolved through the catalog (--catalog, DATALAKE_CATALOG, or the Pulumi CLI);
 *   3. with no AWS target configured, the embedded local lake (kinesis-local with the dev topology).
 * The endpoint follows the AWS SDK: --endpoint, AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL, else AWS.
 */
import type { StreamIdentity } from "../../runtime/streams";
import { DescribeStreamSummaryCommand, KinesisClient, ResourceNotFoundException } from "@aws-sdk/client-kinesis";
import { Command, InvalidArgumentError, Option } from "commander";
import * as path from "path";
// Types only: the catalog (zod), the local lake (the emulator, processors, YAML) and the stack topology
// are loaded when a run needs them, not at every start of every app (~0.2 s of a publisher's start-up).
import type { Catalog, CatalogEntry } from "../../runtime/catalog";
import { createKinesisClient, DEFAULT_CALL_TIMEOUT_MS, endpointFromEnv, isLoopbackEndpoint } from "../../runtime/client";
import { describeAwsError, NO_CREDENTIALS, NO_REGION, UserError } from "../../runtime/errors";
import { classifyError } from "../../runtime/kinesis-errors";
import { checkSegmentAddress } from "./address";

export interface TargetOptions {
  /** Stream name; wins over everything else. */
  stream?: string;
  /** Segment address (`layer/segment`), looked up in the catalog. */
  segment?: string;
  /** Catalog JSON file. @default DATALAKE_CATALOG, then `pulumi stack output catalog --json` */
  catalog?: string;
  /** Kinesis endpoint URL. @default AWS_ENDPOINT_URL_KINESIS, then AWS_ENDPOINT_URL */
  endpoint?: string;
  /** AWS region. @default the SDK's (AWS_REGION, profile), or the region in the catalog's stream ARN */
  region?: string;
  /** Use the embedded local lake even when AWS settings are present. @default false */
  local?: boolean;
  /** Deadline of each Kinesis call in seconds (SDK retries included). @default 30 */
  callTimeout?: number;
}

export interface Target {
  client: KinesisClient;
  streamName: string;
  /** One line saying which stream, where, and why it was chosen. */
  description: string;
  /** True when the embedded local lake was started for this run. */
  local: boolean;
  /** The stream's ARN and creation time (DescribeStreamSummary), when the endpoint reports them. */
  identity?: StreamIdentity;
  /** The endpoint in use (undefined: AWS's regional endpoint), and the call deadline, for more clients. */
  endpoint?: string;
  callTimeoutMs?: number;
  /** The segment's catalog entry, when the target was chosen by `--segment` (through a catalog, or the embedded local lake's). */
  entry?: CatalogEntry;
  /** Releases the client and stops the local lake if one was started. */
  close(): Promise<void>;
}

/** Which stream exactly: a stream deleted and created again under the same name is another stream. */
export type { StreamIdentity } from "../../runtime/streams";

/** Adds the target flags shared by the publisher and the subscriber. */
export function addTargetOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--stream <name>", "Kinesis stream name (env KINESIS_STREAM_NAME)"))
    .addOption(new Option("--segment <address>", 'segment address "layer/segment", resolved through the catalog'))
    .addOption(new Option("--catalog <file>", "catalog JSON from `pulumi stack output catalog --json` (env DATALAKE_CATALOG)"))
    .addOption(new Option("--endpoint <url>", "Kinesis endpoint URL (env AWS_ENDPOINT_URL_KINESIS or AWS_ENDPOINT_URL)"))
    .addOption(new Option("--region <region>", "AWS region (env AWS_REGION)"))
    .addOption(new Option("--local", "use the embedded local lake even when AWS settings are present").conflicts(["endpoint", "region", "catalog"]))
    .addOption(
      new Option("--call-timeout <seconds>", "deadline of each Kinesis call; a call with no answer by then fails and is retried within the app's budget")
        .argParser(parseCallTimeout)
        .default(DEFAULT_CALL_TIMEOUT_MS / 1000),
    );
}

function parseCallTimeout(value: string): number {
  const n = Number(value);
  if (!/^\d+(?:\.\d+)?$/.test(value.trim()) || !(n >= 0.1) || n > 3600) {
    throw new InvalidArgumentError("expected a number of seconds from 0.1 to 3600, e.g. 30.");
  }
  return n;
}

/**
 * The endpoint as a URL the SDK accepts. `127.0.0.1:4567` (no scheme) is taken as `http://` on this machine
 * (emulators); anywhere else the user is told to add the scheme, instead of a misleading SDK error.
 */
export function normalizeEndpoint(endpoint: string | undefined, source: string): string | undefined {
  if (endpoint === undefined) return undefined;
  const value = endpoint.trim();
  if (/^https?:\/\//i.test(value)) {
    try {
      new URL(value);
      return value;
    } catch {
      throw new UserError(`${source} "${endpoint}" is not a URL; use e.g. https://kinesis.eu-west-1.amazonaws.com or http://127.0.0.1:4567`);
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new UserError(`${source} "${endpoint}" must start with http:// or https://`);
  }
  if (isLoopbackEndpoint(`http://${value}`)) return `http://${value}`;
  throw new UserError(`${source} "${endpoint}" has no scheme; use https://${value} (or http://${value} for an emulator on plain HTTP)`);
}

/** True when anything points at AWS or an emulator; otherwise the apps use the embedded local lake. */
export function awsTargetConfigured(opts: TargetOptions, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(
    opts.endpoint ||
      opts.region ||
      opts.catalog ||
      endpointFromEnv(env) ||
      env.DATALAKE_CATALOG ||
      env.AWS_REGION ||
      env.AWS_DEFAULT_REGION ||
      env.AWS_PROFILE ||
      env.AWS_ACCESS_KEY_ID ||
      env.AWS_WEB_IDENTITY_TOKEN_FILE ||
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI ||
      env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
  );
}

async function loadCatalog(opts: TargetOptions, env: NodeJS.ProcessEnv): Promise<{ catalog: Catalog; source: string }> {
  const { catalogFromPulumi, CATALOG_HINT, readCatalogFile } = await import("../../runtime/catalog");
  const file = opts.catalog ?? env.DATALAKE_CATALOG;
  if (file) return { catalog: readCatalogFile(file), source: `catalog ${file}` };
  const fromCli = catalogFromPulumi();
  if (fromCli) return { catalog: fromCli, source: "the current Pulumi stack's catalog" };
  throw new UserError(`no catalog to resolve --segment; ${CATALOG_HINT}`);
}

/** Fails early, in one line, when the SDK has no region or no credentials. */
export async function checkAwsSetup(client: KinesisClient): Promise<void> {
  try {
    await client.config.region();
  } catch {
    throw new UserError(NO_REGION);
  }
  try {
    await client.config.credentials();
  } catch {
    throw new UserError(NO_CREDENTIALS);
  }
}

/**
 * Confirms that the stream exists, so a typo fails in one line before any work starts; returns its identity
 * (ARN and creation time), which tells a stream apart from an earlier one of the same name.
 */
async function checkStream(client: KinesisClient, streamName: string, where: string, hint: string): Promise<StreamIdentity | undefined> {
  try {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    const summary = out.StreamDescriptionSummary;
    return summary?.StreamARN && summary.StreamCreationTimestamp
      ? { streamArn: summary.StreamARN, createdAt: new Date(summary.StreamCreationTimestamp) }
      : undefined;
  } catch (err) {
    if (err instanceof ResourceNotFoundException || (err as Error).name === "ResourceNotFoundException") {
      throw new UserError(`stream "${streamName}" not found at ${where}${hint}`);
    }
    // Unreachable or frozen endpoints are failures (exit 1), not usage errors; runMain words them.
    if (classifyError(err) === "transient") throw err;
    const known = describeAwsError(err);
    if (known) throw new UserError(known);
    throw err;
  }
}

export async function resolveTarget(
  opts: TargetOptions,
  log: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Target> {
  const stream = opts.stream ?? env.KINESIS_STREAM_NAME;
  const streamSource = opts.stream ? "--stream" : "KINESIS_STREAM_NAME";
  if (!stream && opts.segment) checkSegmentAddress("--segment", opts.segment);

  if (opts.local || !awsTargetConfigured(opts, env)) {
    const [{ startLocalLake }, { localStackName }, { lookupSegment }] = await Promise.all([import("../../local/lake"), import("../../runtime/topology"), import("../../runtime/catalog")]);
    const lake = await startLocalLake({ log, dataDir: env.DATALAKE_LOCAL_DIR, stack: localStackName(env) });
    try {
      let streamName: string;
      let why: string;
      let entry: CatalogEntry | undefined;
      if (stream) {
        streamName = stream;
        why = streamSource;
      } else {
        const address = opts.segment ?? lake.config.segments[0].address;
        entry = lookupSegment(lake.catalog, address, `the local lake (${lake.stackFile})`);
        streamName = entry.streamName;
        why = opts.segment ? `segment ${address}` : `segment ${address}, the first of ${lake.stackFile}; choose with --segment`;
      }
      const known = Object.keys(lake.catalog).join(", ");
      const identity = await checkStream(lake.client, streamName, `the local lake`, `; its segments are ${known}`);
      const description = `target: local lake (kinesis-local at ${lake.endpoint}, state in ${path.relative(process.cwd(), lake.dataDir) || "."}), stream ${streamName} (${why})`;
      log(description);
      return { client: lake.client, streamName, description, local: true, identity, endpoint: lake.endpoint, entry, close: () => lake.stop() };
    } catch (err) {
      await lake.stop();
      throw err;
    }
  }

  let streamName: string;
  let why: string;
  let region = opts.region;
  let entry: CatalogEntry | undefined;
  if (stream) {
    streamName = stream;
    why = streamSource;
  } else if (opts.segment) {
    const { catalog, source } = await loadCatalog(opts, env);
    const { entryRegion, lookupSegment } = await import("../../runtime/catalog");
    entry = lookupSegment(catalog, opts.segment, source);
    streamName = entry.streamName;
    why = `segment ${opts.segment} from ${source}`;
    region ??= env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? entryRegion(entry);
  } else {
    throw new UserError("no stream chosen: pass --segment layer/segment (with a catalog) or --stream NAME, or set KINESIS_STREAM_NAME");
  }

  const endpoint = normalizeEndpoint(
    opts.endpoint ?? endpointFromEnv(env),
    opts.endpoint !== undefined ? "--endpoint" : env.AWS_ENDPOINT_URL_KINESIS ? "AWS_ENDPOINT_URL_KINESIS" : "AWS_ENDPOINT_URL",
  );
  const callTimeoutMs = Math.round((opts.callTimeout ?? DEFAULT_CALL_TIMEOUT_MS / 1000) * 1000);
  const client = createKinesisClient({ endpoint, region, callTimeoutMs }, env);
  try {
    await checkAwsSetup(client);
    const where = endpoint ?? `AWS region ${await client.config.region()}`;
    const identity = await checkStream(client, streamName, where, "; check the name, the region and that the stack is deployed");
    const description = `target: stream ${streamName} at ${where} (${why})`;
    log(description);
    return {
      client,
      streamName,
      description,
      local: false,
      identity,
      endpoint,
      callTimeoutMs,
      entry,
      close: async () => client.destroy(),
    };
  } catch (err) {
    client.destroy();
    throw err;
  }
}
