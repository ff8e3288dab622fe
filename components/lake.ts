/**
 * The data lake: its layers (each with its segments), the routes between segments, and the catalog.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Catalog, CatalogEntry } from "../model/catalog";
import { LakeConfig } from "../model/config";
import { backupProviderName, groupNames, layerNames, parseAddress, replicaNames, routeNames, segmentNames } from "../model/naming";
import { DataLayer } from "./layer";
import { QueryWorkgroup } from "./query-workgroup";
import { DataRoute } from "./route";
import { DataSegment } from "./segment";
import { groupAlarms, processorAlarms, ProcessorMetricNames, replicationAlarms, segmentAlarms } from "../model/alarms";
import { DataAlarms } from "./alarms";
import { DataAlerts } from "./alerts";
import { DataDashboard } from "./dashboard";
import { Tags } from "./tags";

export interface DataLakeArgs extends LakeConfig {
  /** Extra tags for every taggable resource; the lake's own `datalake:*` tags are always added. @default {} */
  tags?: Tags;
  /**
   * Settings of the backup region's explicit AWS provider. An explicit provider does not read the stack's
   * `aws:*` config, so the profile is passed on (`aws:profile` in `index.ts`); other credentials come from
   * the environment, as for the default provider. @default {}
   */
  backupProvider?: { profile?: string };
}

export class DataLake extends pulumi.ComponentResource {
  readonly lakeName: pulumi.Output<string>;
  /** Layers keyed by layer name. */
  readonly layers: Record<string, DataLayer>;
  /** Routes keyed by route name. */
  readonly routes: Record<string, DataRoute>;
  /** Every segment's endpoints, keyed by address (`ingest/persons`). */
  readonly catalog: pulumi.Output<Catalog>;
  /** The SNS topic every alarm of the lake notifies: subscribe on-call tools to it. */
  readonly alarmTopicArn: pulumi.Output<string>;
  /** The lake's CloudWatch dashboard (the first, when the lake needs more than one). */
  readonly dashboardName: pulumi.Output<string>;
  /** Every CloudWatch dashboard of the lake: one unless the lake outgrows CloudWatch's per-dashboard quotas. */
  readonly dashboardNames: pulumi.Output<string[]>;

  constructor(name: string, args: DataLakeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:Lake", name, {}, opts);
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    const region = aws.getRegionOutput({}, { parent: this }).region;
    const partitionInfo = aws.getPartitionOutput({}, { parent: this });
    const partition = partitionInfo.partition;
    // The partition's DNS suffix: `kms:ViaService` values end in it (`amazonaws.com.cn` in China).
    const dnsSuffix = partitionInfo.dnsSuffix;

    // The archive's Athena workgroup comes first: every segment's reader policy names it.
    const query = new QueryWorkgroup("archive-query", { lakeName: args.name, accountId, region, partition, tags: args.tags }, { parent: this });
    const queryArgs = { workgroupArn: query.workgroupArn, resultsBucketArn: query.resultsBucketArn, resultsKeyArn: query.resultsKeyArn };

    // The backup region's provider, only while some segment is backed up (named from the lake).
    const backupOn = args.backup !== undefined && args.segments.some((s) => s.backup);
    const backupProvider =
      backupOn && args.backup
        ? new aws.Provider(
            backupProviderName(args.name),
            { region: args.backup.region as aws.Region, ...(args.backupProvider?.profile ? { profile: args.backupProvider.profile } : {}) },
            { parent: this },
          )
        : undefined;
    const backup = backupProvider && args.backup ? { config: args.backup, provider: backupProvider } : undefined;

    this.layers = {};
    for (const layer of args.layers) {
      this.layers[layer.name] = new DataLayer(
        layerNames(args.name, layer.name).logicalName,
        {
          layer,
          lakeName: args.name,
          layerNamesInLake: args.layers.map((l) => l.name),
          accountId,
          region,
          partition,
          dnsSuffix,
          tags: args.tags,
          query: queryArgs,
          backup,
        },
        { parent: this },
      );
    }

    /** The layer of a route's `to` address (parseLakeConfig has checked it). */
    const targetLayer = (address: string): string => parseAddress(address)?.layer ?? "";
    const segment = (address: string): DataSegment => {
      const parsed = parseAddress(address);
      const found = parsed && this.layers[parsed.layer]?.segments[parsed.segment];
      // parseLakeConfig already rejects routes to unknown segments; this guards direct construction.
      if (!found) throw new pulumi.ResourceError(`route end "${address}" names no segment of this lake`, this);
      return found;
    };

    // Created after the layers: a processor needs both streams and both keys.
    this.routes = {};
    for (const route of args.routes) {
      const from = segment(route.from);
      const to = segment(route.to);
      this.routes[route.name] = new DataRoute(
        routeNames(args.name, route.name, targetLayer(route.to)).logicalName,
        {
          route,
          lakeName: args.name,
          from: { streamName: from.streamName, streamArn: from.streamArn, kmsKeyArn: from.kmsKeyArn },
          to: { streamName: to.streamName, streamArn: to.streamArn, kmsKeyArn: to.kmsKeyArn },
          accountId,
          region,
          partition,
          dnsSuffix,
          tags: args.tags,
        },
        { parent: this },
      );
    }

    const entries = args.segments.map((s) => {
      const seg = segment(s.address);
      return pulumi
        .all([
          seg.streamName,
          seg.streamArn,
          seg.deliveryStreamName,
          seg.bucketName,
          seg.producerPolicyArn,
          seg.consumerPolicyArn,
          seg.kmsKeyArn,
          region,
          this.layers[s.layer].tables[s.name].readerPolicyArn,
          this.layers[s.layer].tables[s.name].qualifiedName,
        ])
        .apply(
          ([streamName, streamArn, deliveryStreamName, bucketName, producerPolicyArn, consumerPolicyArn, kmsKeyArn, r, readerPolicyArn, tableName]): CatalogEntry => ({
            address: s.address,
            layer: s.layer,
            segment: s.name,
            streamName,
            streamArn,
            deliveryStreamName,
            bucketName,
            producerPolicyArn,
            consumerPolicyArn,
            kmsKeyArn,
            region: r,
            readerPolicyArn,
            tableName,
          }),
        );
    });
    // --- operations: one alarm topic, alarms per segment and processor, one dashboard (issue 10) ----
    const alerts = new DataAlerts(
      "alerts",
      { lakeName: args.name, email: args.alerts?.email, accountId, region, partition, tags: args.tags },
      { parent: this },
    );
    for (const s of args.segments) {
      new DataAlarms(
        `${segmentNames(args.name, s.layer, s.name, "").logicalName}-alarms`,
        { alarms: segmentAlarms(args.name, s), topicArn: alerts.topicArn, where: { lake: args.name, layer: s.layer, segment: s.address }, tags: args.tags },
        // Under their segment: adding or removing a segment adds or removes its alarms and nothing else.
        { parent: segment(s.address) },
      );
      for (const g of s.groups) {
        new DataAlarms(
          `${groupNames(args.name, s.layer, s.name, g.name).logicalName}-alarms`,
          { alarms: groupAlarms(args.name, s, g), topicArn: alerts.topicArn, where: { lake: args.name, layer: s.layer, segment: s.address }, tags: args.tags },
          // Under their group: removing the group removes its alarm and nothing else.
          { parent: segment(s.address).groups[g.name] },
        );
      }
    }
    // Replication alarms: failed operations in the stack's region, latency in the backup region, where S3
    // publishes each metric; the backup region gets an alarm topic of its own (an alarm notifies a topic of
    // its own region), the same name, key and e-mail subscription as the lake's.
    if (backup) {
      const backupAlerts = new DataAlerts(
        "alerts-backup-region",
        { lakeName: args.name, email: args.alerts?.email, accountId, region: backup.config.region, partition, tags: args.tags },
        { parent: this, providers: [backup.provider] },
      );
      for (const s of args.segments.filter((x) => x.backup)) {
        const replica = this.layers[s.layer].backup!.replicas[s.name];
        const logical = replicaNames(args.name, s.layer, s.name, "").logicalName;
        const where = { lake: args.name, layer: s.layer, segment: s.address };
        const alarmsFor = (accountId: string) => replicationAlarms(args.name, s, args.backup, accountId);
        new DataAlarms(
          `${logical}-alarms`,
          { alarms: { accountId, build: (id) => alarmsFor(id).sourceRegion }, topicArn: alerts.topicArn, where, tags: args.tags },
          { parent: replica },
        );
        new DataAlarms(
          `${logical}-alarms-backup-region`,
          { alarms: { accountId, build: (id) => alarmsFor(id).backupRegion }, topicArn: backupAlerts.topicArn, where, tags: args.tags },
          { parent: replica, providers: [backup.provider] },
        );
      }
    }
    // The processors' function and queue names: the names the processor component gives them (routeNames).
    const processors: (ProcessorMetricNames & { to: string })[] = args.routes.map((r) => ({
      route: r.name,
      to: r.to,
      source: args.segments.find((s) => s.address === r.from)!,
      functionName: routeNames(args.name, r.name, targetLayer(r.to)).functionName,
      queueName: routeNames(args.name, r.name, targetLayer(r.to)).queueName,
    }));
    for (const p of processors) {
      new DataAlarms(
        `${routeNames(args.name, p.route, targetLayer(p.to)).logicalName}-alarms`,
        { alarms: processorAlarms(args.name, p), topicArn: alerts.topicArn, where: { lake: args.name, route: p.route }, tags: args.tags },
        { parent: this.routes[p.route] },
      );
    }
    const dashboard = new DataDashboard("dashboard", { config: args, region, accountId, processors }, { parent: this });
    this.alarmTopicArn = alerts.topicArn;
    this.dashboardName = dashboard.dashboardName;
    this.dashboardNames = dashboard.dashboardNames;

    // Each route's dead-letter queue is listed on its source segment's entry (the records are that segment's).
    const deadLetterQueues = pulumi.all(
      args.routes.map((r) =>
        pulumi
          .all([this.routes[r.name].deadLetterQueueUrl, this.routes[r.name].deadLetterQueueArn])
          .apply(([queueUrl, queueArn]) => ({ from: r.from, route: r.name, entry: { to: r.to, queueUrl, queueArn } })),
      ),
    );
    // Each segment's consumers and sharing (keys absent when it has none), in the order of `entries`.
    const access = pulumi.all(args.segments.map((s) => segment(s.address).catalogAccess));
    // Each backed-up segment's replica (`backup` absent for the others), in the same order.
    const backups = pulumi.all(
      args.segments.map((s): pulumi.Output<Pick<CatalogEntry, "backup">> => {
        const layerBackup = this.layers[s.layer].backup;
        const replica = layerBackup?.replicas[s.name];
        if (!layerBackup || !replica || !args.backup) return pulumi.output({});
        const backupRegion = args.backup.region;
        return pulumi.all([replica.bucketName, layerBackup.keyArn]).apply(([bucketName, kmsKeyArn]) => ({ backup: { bucketName, region: backupRegion, kmsKeyArn } }));
      }),
    );
    this.catalog = pulumi.all([pulumi.all(entries), deadLetterQueues, access, backups]).apply(([list, queues, accessList, backupList]) =>
      Object.fromEntries(
        list.map((e, i) => {
          const own = queues.filter((q) => q.from === e.address);
          const withAccess = { ...e, ...accessList[i], ...backupList[i] };
          return [e.address, own.length === 0 ? withAccess : { ...withAccess, deadLetterQueues: Object.fromEntries(own.map((q) => [q.route, q.entry])) }];
        }),
      ),
    );
    this.lakeName = pulumi.output(args.name);
    this.registerOutputs({ lakeName: this.lakeName, catalog: this.catalog, alarmTopicArn: this.alarmTopicArn, dashboardName: this.dashboardName, dashboardNames: this.dashboardNames });
  }
}
