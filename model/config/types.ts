/** The parsed topology: the shapes `parseLakeConfig` returns, with every default applied. */
import { SegmentSchema } from "../archive";
import { GroupConfig } from "../groups";
import { ProcessorRouteConfig } from "../processor/config-schema";
import { ShareConfig } from "../safety";
import type { CapacityMode, CompressionFormat } from "./defaults";

export interface AlarmsConfig {
  /** Declare this segment's alarms. @default true */
  enabled: boolean;
  /** Iterator-age alarm threshold as a share of the stream's retention. @default 50 */
  iteratorAgePercentOfRetention: number;
  /** Wire-tap freshness alarm threshold: `bufferSeconds` plus this margin. @default 300 */
  freshnessMarginSeconds: number;
}

export interface AlertsConfig {
  /** E-mail address subscribed to the lake's alarm topic (the owner must confirm it). @default none */
  email: string | undefined;
}

export interface BackupConfig {
  /** AWS region of the replica buckets and their keys; never the stack's own region, always of its partition. */
  region: string;
  /** Days each replicated object version is locked in compliance mode after it was written. @default 30 */
  objectLockDays: number;
  /** S3 Replication Time Control: 99.99 % of objects within 15 minutes, at a per-GB fee. @default false */
  timeControl: boolean;
}

export interface WireTapConfig {
  /** Firehose buffering interval in seconds. @default 300 */
  bufferSeconds: number;
  /** Firehose buffering size in MiB. @default 64 */
  bufferMiB: number;
  /** Compression of the objects written to S3. @default "GZIP" */
  compression: CompressionFormat;
}

export interface SegmentConfig {
  layer: string;
  name: string;
  /** `layer/segment` */
  address: string;
  /** @default "provisioned" */
  mode: CapacityMode;
  /** Provisioned shard count; undefined for on-demand streams. @default 1 */
  shards: number | undefined;
  /** Stream retention in hours. @default 24 */
  retentionHours: number;
  wireTap: WireTapConfig;
  /** Columns of the segment's archive table (JSON field -> type), in order. @default {"id":"string","name":"string","age":"int"} (the demo record) */
  schema: SegmentSchema;
  /** The segment's CloudWatch alarms. */
  alarms: AlarmsConfig;
  /** Enhanced fan-out consumers registered on the stream, each with its own policy. @default [] */
  consumers: string[];
  /** Other accounts or roles allowed to produce to or consume from this segment. @default { producers: [], consumers: [] } */
  share: ShareConfig;
  /** Whether the lake's backup replicates this segment's bucket (`backup: false` leaves it out). @default true when `datalake:lake.backup` is set, else false */
  backup: boolean;
  /** Consumer groups: workers sharing the shards through a lease table each (model/groups.ts). @default [] */
  groups: GroupConfig[];
}

export interface LayerConfig {
  name: string;
  segments: SegmentConfig[];
}

/** A route: a stream processor from one segment to another (transform, aggregate, failure, startAt: see model/processor). */
export interface RouteConfig extends ProcessorRouteConfig {
  /** Route name; @default "<fromLayer>-<fromSegment>-to-<toLayer>-<toSegment>" */
  name: string;
  /** Source segment address. */
  from: string;
  /** Target segment address. */
  to: string;
  /** EventBridge content-filter pattern applied to the record's JSON; none forwards every record. */
  filter: Record<string, unknown> | undefined;
  /**
   * Where the filter runs. `function`: in the handler, after KPL aggregates are unpacked (every record
   * invokes the function). `mapping`: also as the event source mapping's filter criteria, so records it
   * drops never invoke the function; only for sources no producer KPL-aggregates into, since Lambda's
   * docs do not settle whether a mapping filter sees inside an aggregate (it is not JSON) or drops it.
   * @default "function"
   */
  filterAt: "function" | "mapping";
}

export interface LakeConfig {
  /** Prefix of every physical name. @default "<project>-<stack>" */
  name: string;
  layers: LayerConfig[];
  /** Every segment of every layer, in config order. */
  segments: SegmentConfig[];
  routes: RouteConfig[];
  /** Where alarm notifications go besides the lake's SNS topic. */
  alerts: AlertsConfig;
  /** Cross-region backup of the segments' buckets; undefined when `datalake:lake.backup` is absent (off). @default undefined */
  backup?: BackupConfig;
}
