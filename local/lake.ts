/**
 * The embedded local lake: one place that stands in for every AWS part of the lake, built from a stack's
 * topology under the same physical names the deployed lake uses. Each local service is named for the AWS
 * service it replaces and started from the list in `startLocalLake`, in order:
 *
 * - Amazon Kinesis Data Streams: kinesis-local with one stream per segment and the segments' registered
 *   (enhanced fan-out) consumers (`local/kinesis.ts`);
 * - Amazon Data Firehose: one wire-tap per segment writing the S3 object layout under `<dataDir>/s3/<bucket>/`
 *   (`local/firehose.ts`);
 * - Amazon S3 Replication, with a backup in the config: each backed-up segment's folder copied into its
 *   replica's folder `<dataDir>/s3/<replica bucket>/`, asynchronously, same keys (`local/replication.ts`);
 * - the routes' processors (`local/processor.ts`: the Lambda handler on Lambda-shaped events);
 * - Amazon DynamoDB, when the topology declares consumer groups: dynalite with each group's lease table
 *   (`local/dynamodb.ts`), persisted in `<dataDir>/dynamodb/`.
 *
 * State persists in `.datalake/local/<stack>/` so a publish run and a later subscribe run see the same
 * records, each stack in its own folder. One process at a time owns a folder (`local/lake-lock.ts`: a lock
 * names the owner, so a second one is told where the lake is); the lake's port is kept there too.
 */
import {
  DecreaseStreamRetentionPeriodCommand,
  DescribeStreamSummaryCommand,
  IncreaseStreamRetentionPeriodCommand,
} from "@aws-sdk/client-kinesis";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { catalogFromConfig, LOCAL_ACCOUNT } from "../runtime/catalog";
import { createKinesisClient } from "../runtime/client";
import { UserError } from "../runtime/errors";
import { LocalKinesis, startLocalKinesis } from "./kinesis";
import { LocalFirehose } from "./firehose";
import { LocalReplication } from "./replication";
import { LocalProcessor } from "./processor";
import { ensureStream, waitForActive } from "../runtime/streams";
import { loadStackTopology, localLakeDir, localStackName, stackRegion } from "../runtime/topology";
import { takeLock } from "./lake-lock";
import { busyMessage, noticeOldLayout, readPort } from "./lake/folder";
import { consumersOf, registerConsumers } from "./lake/consumers";
import { startGroupTables } from "./lake/group-tables";
import { LocalLake, LocalLakeOptions, LocalService, localBucketDir } from "./lake/options";

export { localBucketDir } from "./lake/options";
export type { LocalLake, LocalLakeOptions, LocalService } from "./lake/options";

export async function startLocalLake(options: LocalLakeOptions = {}): Promise<LocalLake> {
  const stack = options.stack ?? localStackName();
  const config = options.config ?? loadStackTopology(stack);
  const dataDir = path.resolve(options.dataDir ?? localLakeDir(stack));
  const persist = options.persist ?? true;
  const log = options.log ?? (() => undefined);
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const region = options.region ?? (options.config ? LOCAL_ACCOUNT.region : stackRegion(stack)) ?? LOCAL_ACCOUNT.region;
  const lock = persist ? takeLock(dataDir, options.holder ?? "another app", (owner) => busyMessage(dataDir, owner)) : { release: () => undefined, update: () => undefined };
  if (persist && !options.dataDir) noticeOldLayout(dataDir, warn);
  const catalog = catalogFromConfig(config, { ...LOCAL_ACCOUNT, region });
  for (const segment of config.segments) {
    const entry = catalog[segment.address];
    entry.localArchiveDir = localBucketDir(dataDir, entry.bucketName);
    if (entry.backup) entry.backup.localArchiveDir = localBucketDir(dataDir, entry.backup.bucketName);
  }
  const services: LocalService[] = [];
  const wireTaps = new Map<string, LocalFirehose>();
  const routes: LocalProcessor[] = [];
  const replications = new Map<string, LocalReplication>();
  let stopping: Promise<void> | undefined;
  let reportFailure: (err: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (reportFailure = resolve));
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
    const portFile = path.join(dataDir, "port");
    const savedPort = persist ? readPort(portFile) : undefined;
    const startKinesis = (port: number | undefined) =>
      startLocalKinesis({
        persistDir: persist ? path.join(dataDir, "kinesis") : undefined,
        port,
        info: log,
        warn: (line) => {
          recovered = true;
          warn(line);
        },
      });
    let kinesis: LocalKinesis;
    try {
      kinesis = await startKinesis(options.port ?? savedPort);
    } catch (err) {
      // The port this folder's lake used last is taken by another program: run on a free one and say so.
      if (options.port !== undefined || savedPort === undefined || !(err instanceof UserError)) throw err;
      kinesis = await startKinesis(0);
      warn(`local lake: port ${savedPort}, which this lake used before, is taken by another program; it answers at ${kinesis.endpoint} now (paste the new export lines, or choose with --port)`);
    }
    if (persist && kinesis.port !== savedPort) fs.writeFileSync(portFile, `${kinesis.port}\n`);
    const client = createKinesisClient({ endpoint: kinesis.endpoint, region });
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
        let summary = (await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }))).StreamDescriptionSummary;
        // The segment's retention, as the deployed stream has it (records past it are dropped at a start).
        if (summary?.RetentionPeriodHours !== undefined && summary.RetentionPeriodHours !== segment.retentionHours) {
          const Command = segment.retentionHours > summary.RetentionPeriodHours ? IncreaseStreamRetentionPeriodCommand : DecreaseStreamRetentionPeriodCommand;
          await client.send(new Command({ StreamName: streamName, RetentionPeriodHours: segment.retentionHours }));
          await waitForActive(client, streamName);
          summary = (await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }))).StreamDescriptionSummary;
        }
        created.set(segment.address, summary?.StreamCreationTimestamp);
        const entry = catalog[segment.address];
        if (summary?.StreamARN) entry.streamArn = summary.StreamARN;
        if (consumersOf(segment).length > 0) {
          const arns = await registerConsumers(client, summary!.StreamARN!, consumersOf(segment));
          for (const [name, arn] of arns) if (entry.consumers?.[name]) entry.consumers[name].consumerArn = arn;
        }
      }),
    );
    log(`local lake: ${config.segments.length} segment streams of Pulumi.${stack}.yaml ready at ${kinesis.endpoint}`);

    // Amazon DynamoDB: the consumer groups' lease tables, as the stack declares them.
    const dynamodb = await startGroupTables(config, catalog, persist ? path.join(dataDir, "dynamodb") : undefined);
    if (dynamodb) services.push(dynamodb.service);

    if (options.services === "all") {
      // Amazon S3 Replication: started before the wire-taps, so it stops after them and copies their last objects.
      for (const segment of config.segments) {
        const entry = catalog[segment.address];
        if (!entry.backup?.localArchiveDir) continue;
        const replication = new LocalReplication({ sourceDir: entry.localArchiveDir!, replicaDir: entry.backup.localArchiveDir, log: warn });
        replications.set(segment.address, replication);
        replication.start();
      }
      if (replications.size > 0) {
        services.push({
          aws: "Amazon S3 Replication",
          description: `${replications.size} buckets replicated to their backups (${config.backup?.region})`,
          stop: async () => {
            await Promise.all([...replications.values()].map((r) => r.stop()));
          },
        });
      }

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
          onFailure: (err) => {
            if (!stopping) reportFailure(new Error(`the wire-tap of ${segment.address} stopped: ${err.message}`));
          },
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
        running.push(
          processor.run(stopRoutes.signal).catch((err: Error) => {
            warn(`local lake: route ${route.from} -> ${route.to} stopped: ${err.message}`);
            if (!stopping) reportFailure(new Error(`route ${route.from} -> ${route.to} stopped: ${err.message}`));
          }),
        );
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
      region,
      client,
      config,
      catalog,
      stackFile: `Pulumi.${stack}.yaml`,
      dataDir,
      services,
      wireTaps,
      routes,
      replications,
      kinesis,
      dynamodb: dynamodb?.db,
      advertise: ({ catalogFile, exports }) => lock.update({ endpoint: kinesis.endpoint, catalogFile, exports }),
      failed,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
