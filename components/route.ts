/**
 * A route as a stream processor: a Lambda function fed by an event source mapping on the source
 * segment's stream, reading through its own enhanced fan-out consumer. The mapping filters records on
 * their JSON (filter criteria under `data`), retries a bounded number of times (bisecting failing
 * batches), drops records past a maximum age, and sends what it gives up on to the route's own
 * dead-letter queue. The function (model/processor/handler.ts) forwards records byte for byte under
 * their original partition keys, or transforms or aggregates them (tumbling windows), into the target
 * segment's stream. Routes are the only way data crosses layers.
 *
 * Resource names derive from the lake and route names only (model/naming.ts `routeNames`).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RouteConfig } from "../model/config";
import { parseAddress, routeNames } from "../model/naming";
import { logGroupArn, routeAssumeRolePolicy, routeRolePolicy } from "../model/policies";
import { DEAD_LETTER_MAX_BYTES } from "../model/processor/dead-letter";
import { routeFilterCriteria } from "../model/processor/filter";
import { processorSpec, StartAt } from "../model/processor/spec";
import { PROCESSOR_HANDLER, PROCESSOR_RUNTIME, processorArchive } from "./processor-package";
import { lakeTags, Tags } from "./tags";

/** The end of a route: a segment's stream and the key of its layer. */
export interface RouteEndpoint {
  streamName: pulumi.Input<string>;
  streamArn: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
}

/** Days the processor's logs are kept. */
export const PROCESSOR_LOG_RETENTION_DAYS = 30;
/** Days a dead-letter message is kept: SQS's maximum, 14 days, the time to look at and replay it. */
export const DEAD_LETTER_RETENTION_SECONDS = 1_209_600;
/**
 * Function timeout: room for the handler's bounded PutRecords resends (4 attempts of at most ~14 s per
 * request of 500 records) for a few requests. A batch that still runs out of time is a function error:
 * retried, bisected (halving it), and finally sent to the dead-letter queue, like any other failure.
 */
export const PROCESSOR_TIMEOUT_SECONDS = 120;

/** The event source mapping's starting position settings for a route's `startAt`. */
export function startingPosition(startAt: StartAt): { startingPosition: string; startingPositionTimestamp?: string } {
  if (startAt.type === "at-timestamp") return { startingPosition: "AT_TIMESTAMP", startingPositionTimestamp: startAt.timestamp };
  return { startingPosition: startAt.type === "latest" ? "LATEST" : "TRIM_HORIZON" };
}

export interface DataRouteArgs {
  /** The route's entry of the parsed topology (`parseLakeConfig(...).routes[i]`). */
  route: RouteConfig;
  /** The lake's name: the prefix of every physical name. */
  lakeName: string;
  /** The segment records are read from (`route.from`). */
  from: RouteEndpoint;
  /** The segment results are written to (`route.to`); its layer's key also encrypts the queue and logs. */
  to: RouteEndpoint;
  /** The AWS account the lake is deployed to. */
  accountId: pulumi.Input<string>;
  /** The AWS region the lake is deployed to. */
  region: pulumi.Input<string>;
  /** The AWS partition, for ARNs the route builds itself. @default "aws" */
  partition?: pulumi.Input<string>;
  /** The partition's DNS suffix (`kms:ViaService` values). @default `aws.getPartition().dnsSuffix` */
  dnsSuffix?: pulumi.Input<string>;
  /** Extra tags for every taggable resource; the lake's own `datalake:*` tags are always added. @default {} */
  tags?: Tags;
}

export class DataRoute extends pulumi.ComponentResource {
  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  readonly consumerArn: pulumi.Output<string>;
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  readonly deadLetterQueueArn: pulumi.Output<string>;

  constructor(name: string, args: DataRouteArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:Route", name, {}, opts);
    const route = args.route;
    // The log group goes under the target layer's processor name space, which that layer's key serves.
    const names = routeNames(args.lakeName, route.name, parseAddress(route.to)?.layer ?? "");
    const tags = lakeTags({ lake: args.lakeName, route: route.name }, args.tags);
    const dnsSuffix = args.dnsSuffix ?? aws.getPartitionOutput({}, { parent: this }).dnsSuffix;
    // The handler always applies the filter (after unpacking KPL aggregates). The mapping filters too only
    // when the route asks for it: whether a mapping filter sees inside an aggregate or drops it (it is not
    // JSON) is not settled by Lambda's docs, and dropping it would lose every record inside.
    let filterCriteria;
    try {
      filterCriteria = route.filterAt === "mapping" ? routeFilterCriteria(route.filter) : undefined;
    } catch (err) {
      throw new pulumi.ResourceError(`route ${route.name} (${route.from} -> ${route.to}): ${(err as Error).message}`, this);
    }
    if (!route.startAt.explicit) {
      pulumi.log.warn(
        `route ${route.name} (${route.from} -> ${route.to}) has no startAt, so a new processor starts at trim-horizon and delivers every record ${route.from} still retains; set startAt (trim-horizon, latest or a time) to choose, see docs/processors.md, "Moving from pipes"`,
        this,
      );
    }

    const consumer = new aws.kinesis.StreamConsumer(
      `${name}-consumer`,
      { name: names.consumerName, streamArn: args.from.streamArn },
      { parent: this },
    );
    const queue = new aws.sqs.Queue(
      `${name}-dlq`,
      {
        name: names.queueName,
        kmsMasterKeyId: args.to.kmsKeyArn,
        kmsDataKeyReusePeriodSeconds: 300,
        messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
        // Explicit, not the default (256 KiB for years, now documented up to 1 MiB): the handler cuts its
        // messages to this size and the local lake refuses what is over it, so both refuse the same.
        maxMessageSize: DEAD_LETTER_MAX_BYTES,
        tags,
      },
      { parent: this },
    );
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: names.logGroupName, retentionInDays: PROCESSOR_LOG_RETENTION_DAYS, kmsKeyId: args.to.kmsKeyArn, tags },
      { parent: this },
    );
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: names.roleName,
        description: `Route ${route.from} -> ${route.to}: reads the source through its consumer, writes the target stream`,
        assumeRolePolicy: pulumi.output(args.accountId).apply((id) => JSON.stringify(routeAssumeRolePolicy(id))),
        tags,
      },
      { parent: this },
    );
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-role-policy`,
      {
        role: role.id,
        name: "route",
        policy: pulumi
          .all([
            args.from.streamArn,
            consumer.arn,
            args.from.kmsKeyArn,
            args.to.streamArn,
            args.to.kmsKeyArn,
            queue.arn,
            args.region,
            args.accountId,
            args.partition ?? "aws",
            dnsSuffix,
          ])
          .apply(([sourceStreamArn, consumerArn, sourceKeyArn, targetStreamArn, targetKeyArn, queueArn, region, accountId, partition, suffix]) =>
            JSON.stringify(
              routeRolePolicy({
                sourceStreamArn,
                consumerArn,
                sourceKeyArn,
                targetStreamArn,
                targetKeyArn,
                queueArn,
                logGroupArn: logGroupArn(names.logGroupName, region, accountId, partition),
                region,
                dnsSuffix: suffix,
              }),
            ),
          ),
      },
      { parent: this },
    );
    const fn = new aws.lambda.Function(
      `${name}-function`,
      {
        name: names.functionName,
        description: `Route ${route.from} -> ${route.to}`,
        role: role.arn,
        runtime: PROCESSOR_RUNTIME,
        handler: PROCESSOR_HANDLER,
        code: processorArchive(processorSpec(route)),
        timeout: PROCESSOR_TIMEOUT_SECONDS,
        memorySize: 256,
        environment: { variables: { TARGET_STREAM_NAME: args.to.streamName, DEAD_LETTER_QUEUE_URL: queue.url } },
        loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
        tags,
      },
      // The function logs to its own encrypted log group (created first, or Lambda would create an
      // unencrypted one without retention) under a role that may already write it.
      { parent: this, dependsOn: [logGroup, rolePolicy] },
    );
    const mapping = new aws.lambda.EventSourceMapping(
      `${name}-source`,
      {
        functionName: fn.arn,
        eventSourceArn: consumer.arn,
        ...startingPosition(route.startAt),
        batchSize: route.failure.batchSize,
        filterCriteria,
        bisectBatchOnFunctionError: route.failure.bisectBatchOnFunctionError,
        maximumRetryAttempts: route.failure.maximumRetryAttempts,
        maximumRecordAgeInSeconds: route.failure.maximumRecordAgeInSeconds,
        destinationConfig: { onFailure: { destinationArn: queue.arn } },
        functionResponseTypes: ["ReportBatchItemFailures"],
        tumblingWindowInSeconds: route.aggregate?.windowSeconds,
        tags,
      },
      // Lambda checks on creation that the role may read the source and send to the destination.
      { parent: this, dependsOn: [rolePolicy] },
    );

    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.consumerArn = consumer.arn;
    this.deadLetterQueueUrl = queue.url;
    this.deadLetterQueueArn = queue.arn;
    this.registerOutputs({
      functionName: this.functionName,
      functionArn: this.functionArn,
      consumerArn: this.consumerArn,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
      deadLetterQueueArn: this.deadLetterQueueArn,
      mappingUuid: mapping.uuid,
    });
  }
}
