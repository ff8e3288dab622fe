/**
 * The embedded local lake: one place that stands in for every AWS part of the lake, built from a stack's
 * topology under the same physical names the deployed lake uses. Each local service is named for the AWS
 * service it replaces and started from the list in `startLocalLake`, in order:
 *
 * - Amazon Kinesis Data Streams: kinesis-local with one stream per segment and the segments' registered
 *   (enhanced fan-out) consumers (`local/kinesis.ts`);
 * - Amazon Data Firehose: one wire-tap per segment writing the S3 object layout under `<dataDir>/s3/<bucket>/`
 *   (`local/firehose.ts`);
 * - the routes' processors (`local/processor.ts`: the Lambda handler on Lambda-shaped events).
 *
 * State persists in `.datalake/local/` so a publish run and a later subscribe run see the same records.
 * One process at a time owns that folder (a lock names the owner, so a second one is told where the lake is).
 */
import {
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  RegisterStreamConsumerCommand,
  ResourceInUseException,
} from "@aws-sdk/client-kinesis";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LakeConfig, SegmentConfig } from "../model/config";
import type { Catalog } from "../model/catalog";
import { catalogFromConfig } from "../apps/lib/catalog";
import { createKinesisClient } from "../apps/lib/client";
import { UserError } from "../apps/lib/errors";
import { LocalKinesis, startLocalKinesis } from "./kinesis";
import { LocalFirehose } from "./firehose";
import { LocalProcessor } from "./processor";
import { ensureStream } from "../apps/lib/streams";
import { loadStackTopology, localStackName, PROJECT_DIR } from "../apps/lib/topology";

export interface LocalLakeOptions {
  /** Stack whose topology to use. @default DATALAKE_STACK, then "dev" */
  stack?: string;
  /** The topology itself, instead of reading `Pulumi.<stack>.yaml` (tests, tools). @default read from the stack file */
  config?: LakeConfig;
  /** Folder for the lake's state (streams, wire-tap objects). @default DATALAKE_LOCAL_DIR, then "<project>/.datalake/local" */
  dataDir?: string;
  /** Keep stream contents between runs. @default true */
  persist?: boolean;
  /**
   * Which local services to run: `"all"` (streams, wire-taps, routes: `npm run local-lake` and the demo) or
   * `"streams"` (an app that starts the embedded lake for itself only needs its streams). @default "streams"
   */
  services?: "all" | "streams";
  /**
   * Deliver wire-tap objects at least this often (seconds), whatever a segment's `bufferSeconds` says. Firehose
   * treats buffering hints as hints; this only makes objects appear sooner (tests, a first look). @default the segment's hints
   */
  wireTapMaxSeconds?: number;
  /** Who holds the lake, for the message another process gets. @default "another app" */
  holder?: string;
  /** Receives progress lines. @default discard */
  log?: (line: string) => void;
  /** Receives warnings (state that had to be dropped, a wire-tap or route that stopped). @default a line on stderr */
  warn?: (line: string) => void;
}

/** One running local stand-in for an AWS service. */
export interface LocalService {
  /** The AWS service it stands in for, e.g. "Amazon Data Firehose". */
  readonly aws: string;
  /** What runs, e.g. "3 wire-taps". */
  readonly description: string;
  stop(): Promise<void>;
}

export interface LocalLake {
  endpoint: string;
  client: KinesisClient;
  config: LakeConfig;
  catalog: Catalog;
  /** `Pulumi.<stack>.yaml` the topology came from. */
  stackFile: string;
  dataDir: string;
  /** The running local services, in start order. */
  services: LocalService[];
  /** The wire-taps by segment address (with `services: "all"`). */
  wireTaps: Map<string, LocalFirehose>;
  /** The routes (with `services: "all"`). */
  routes: LocalProcessor[];
  /** The emulator (its ports, its pid). */
  kinesis: LocalKinesis;
  /** Records the lake's endpoint and catalog file in its lock, for the message another process gets. */
  advertise(info: { catalogFile: string }): void;
  /** Stops every service, last started first. Safe to call twice. */
  stop(): Promise<void>;
}

/** Local folder standing in for an S3 bucket (a catalog entry's `bucketName`). */
export function localBucketDir(dataDir: string, bucketName: string): string {
  return path.join(dataDir, "s3", bucketName);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

interface LockInfo {
  pid: number;
  holder?: string;
  endpoint?: string;
  catalogFile?: string;
}

function readLock(file: string): LockInfo | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    if (typeof info === "number") return { pid: info };
    return typeof info?.pid === "number" ? info : undefined;
  } catch {
    return Number(text) ? { pid: Number(text) } : undefined;
  }
}

function busyMessage(dir: string, owner: LockInfo): string {
  if (owner.holder === "npm run local-lake" && owner.endpoint) {
    const vars = `AWS_ENDPOINT_URL_KINESIS=${owner.endpoint}${owner.catalogFile ? ` DATALAKE_CATALOG=${owner.catalogFile}` : ""}`;
    return `the local lake in ${dir} is running under \`npm run local-lake\` (process ${owner.pid}); use it by setting the variables it printed: export ${vars}`;
  }
  return `the local lake in ${dir} is in use by ${owner.holder ?? "another app"} (process ${owner.pid}); run one app at a time, or start \`npm run local-lake\` and set the variables it prints (AWS_ENDPOINT_URL_KINESIS, DATALAKE_CATALOG) so several apps share it`;
}

/** One process at a time owns a persisted local lake; a second would overwrite the first one's state. */
function takeLock(dir: string, holder: string): { release: () => void; update: (info: Partial<LockInfo>) => void } {
  const lock = path.join(dir, "lock");
  fs.mkdirSync(dir, { recursive: true });
  const mine: LockInfo = { pid: process.pid, holder };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, JSON.stringify(mine), { flag: "wx" });
      return {
        release: () => {
          if (readLock(lock)?.pid === process.pid) fs.rmSync(lock, { force: true });
        },
        update: (info) => {
          Object.assign(mine, info);
          const tmp = `${lock}.tmp-${process.pid}`;
          fs.writeFileSync(tmp, JSON.stringify(mine));
          fs.renameSync(tmp, lock);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = readLock(lock);
      if (owner && owner.pid !== process.pid && isAlive(owner.pid)) throw new UserError(busyMessage(dir, owner));
      fs.rmSync(lock, { force: true }); // left behind by a process that died
    }
  }
  throw new UserError(`cannot lock the local lake in ${dir}; remove ${path.join(dir, "lock")} if no app is running`);
}

/** Registers the segment's enhanced fan-out consumers (under the names the config gives, as on AWS) and waits until they are ACTIVE. */
async function registerConsumers(client: KinesisClient, streamArn: string, names: string[]): Promise<void> {
  for (const name of names) {
    try {
      await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: name }));
    } catch (err) {
      if (!(err instanceof ResourceInUseException) && (err as Error).name !== "ResourceInUseException") throw err;
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const out = await client.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: name }));
      if (out.ConsumerDescription?.ConsumerStatus === "ACTIVE") break;
      if (Date.now() > deadline) throw new Error(`consumer ${name} of ${streamArn} did not become ACTIVE within 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function consumersOf(segment: SegmentConfig): string[] {
  return (segment as SegmentConfig & { consumers?: string[] }).consumers ?? [];
}

export async function startLocalLake(options: LocalLakeOptions = {}): Promise<LocalLake> {
  const stack = options.stack ?? localStackName();
  const config = options.config ?? loadStackTopology(stack);
  const dataDir = path.resolve(options.dataDir ?? process.env.DATALAKE_LOCAL_DIR ?? path.join(PROJECT_DIR, ".datalake", "local"));
  const persist = options.persist ?? true;
  const log = options.log ?? (() => undefined);
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const lock = persist ? takeLock(dataDir, options.holder ?? "another app") : { release: () => undefined, update: () => undefined };
  const catalog = catalogFromConfig(config);
  const services: LocalService[] = [];
  const wireTaps = new Map<string, LocalFirehose>();
  const routes: LocalProcessor[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const service of [...services].reverse()) {
        await service.stop().catch((err: Error) => warn(`local lake: stopping ${service.aws} failed: ${err.message}`));
      }
      lock.release();
    })());

  try {
    // Amazon Kinesis Data Streams: the emulator, every segment's stream, every registered consumer.
    let recovered = false;
    const kinesis = await startLocalKinesis({
      persistDir: persist ? path.join(dataDir, "kinesis") : undefined,
      warn: (line) => {
        recovered = true;
        warn(line);
      },
    });
    const client = createKinesisClient({ endpoint: kinesis.endpoint });
    services.push({
      aws: "Amazon Kinesis Data Streams",
      description: `kinesis-local at ${kinesis.endpoint}`,
      stop: async () => {
        client.destroy();
        await kinesis.stop();
      },
    });
    const created = new Map<string, Date | undefined>();
    await Promise.all(
      config.segments.map(async (segment) => {
        const streamName = catalog[segment.address].streamName;
        await ensureStream(client, { name: streamName, shards: segment.shards });
        const summary = (await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }))).StreamDescriptionSummary;
        created.set(segment.address, summary?.StreamCreationTimestamp);
        if (consumersOf(segment).length > 0) await registerConsumers(client, summary!.StreamARN!, consumersOf(segment));
      }),
    );
    log(`local lake: ${config.segments.length} segment streams of Pulumi.${stack}.yaml ready at ${kinesis.endpoint}`);

    if (options.services === "all") {
      // Amazon Data Firehose: one wire-tap per segment into its local bucket; its reading position lives with
      // the lake's state (in a fresh folder when the streams are not kept either).
      const tapScratch = persist ? dataDir : fs.mkdtempSync(path.join(os.tmpdir(), "datalake-firehose-"));
      for (const segment of config.segments) {
        const names = catalog[segment.address];
        const tap = new LocalFirehose({
          client,
          segment:
            options.wireTapMaxSeconds === undefined
              ? segment
              : { ...segment, wireTap: { ...segment.wireTap, bufferSeconds: Math.min(segment.wireTap.bufferSeconds, options.wireTapMaxSeconds) } },
          streamName: names.streamName,
          deliveryStreamName: names.deliveryStreamName,
          bucketDir: localBucketDir(dataDir, names.bucketName),
          positionFile: path.join(persist ? dataDir : tapScratch, "firehose", `${names.deliveryStreamName}.position.json`),
          streamCreatedAt: created.get(segment.address),
          // Streams rolled back to an earlier snapshot reuse sequence numbers: deliver them again (duplicates, never gaps).
          restart: recovered,
          log: warn,
        });
        wireTaps.set(segment.address, tap);
        tap.start();
      }
      services.push({
        aws: "Amazon Data Firehose",
        description: `${wireTaps.size} wire-taps into ${path.join(dataDir, "s3")}`,
        stop: async () => {
          await Promise.all([...wireTaps.values()].map((tap) => tap.stop()));
          if (!persist) fs.rmSync(tapScratch, { recursive: true, force: true });
        },
      });

      // Routes: one processor per route, running the Lambda handler; its checkpoints and dead-letter file
      // live with the lake's state (a fresh folder when the streams are not kept either).
      const stopRoutes = new AbortController();
      const running: Promise<unknown>[] = [];
      const processorDir = persist ? dataDir : fs.mkdtempSync(path.join(os.tmpdir(), "datalake-processors-"));
      for (const route of config.routes) {
        const processor = new LocalProcessor({
          route,
          client,
          sourceStream: catalog[route.from].streamName,
          targetStream: catalog[route.to].streamName,
          sourceStreamArn: catalog[route.from].streamArn,
          region: catalog[route.from].region,
          dataDir: processorDir,
          log,
        });
        routes.push(processor);
        catalog[route.from].deadLetterQueues = {
          ...catalog[route.from].deadLetterQueues,
          [route.name]: { to: route.to, queueUrl: `file://${processor.deadLetterFile}`, queueArn: `local:${processor.deadLetterFile}` },
        };
        running.push(processor.run(stopRoutes.signal).catch((err: Error) => warn(`local lake: route ${route.from} -> ${route.to} stopped: ${err.message}`)));
      }
      services.push({
        aws: "route processors",
        description: `${routes.length} routes`,
        stop: async () => {
          stopRoutes.abort();
          await Promise.all(running);
        },
      });
    }

    return {
      endpoint: kinesis.endpoint,
      client,
      config,
      catalog,
      stackFile: `Pulumi.${stack}.yaml`,
      dataDir,
      services,
      wireTaps,
      routes,
      kinesis,
      advertise: ({ catalogFile }) => lock.update({ endpoint: kinesis.endpoint, catalogFile }),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
