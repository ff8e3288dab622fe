/**
 * The lake topology (`datalake:lake` in `Pulumi.<stack>.yaml`): its schema, its defaults, and the checks
 * that run before any resource is declared. Pure: no Pulumi, no AWS, so the apps and tests use it as is.
 */
import { z } from "zod";
import { aggregateFieldProblems, aggregateResultSchema, DEFAULT_SCHEMA, SegmentSchema, schemaProblems } from "./archive";
import { patternMatcherProblems } from "./event-pattern";
import { GROUP_KEYS, GroupConfig, groupsSchema, parseGroups, segmentGroupProblems } from "./groups";
import { consumersSchema, lakeSafetyProblems, LayerOutline, segmentAccessProblems, ShareConfig, shareSchema } from "./safety";
import { AWS_REGIONS, partitionOfRegion } from "./regions";
import { FILTER_PATTERN_MAX_LENGTH, routeFilterPattern } from "./processor/filter";
import { processorKeysAt, processorRouteConfig, ProcessorRouteConfig, processorRouteProblems, processorRouteShape } from "./processor/config-schema";
import {
  layerBackupNameChecks,
  layerNameChecks,
  NAME_PATTERN,
  NAME_RULE,
  NameCheck,
  parseAddress,
  replicaNameChecks,
  routeNameChecks,
  segmentAddress,
  segmentNameChecks,
  segmentNames,
  defaultRouteName,
} from "./naming";

/** The config key the topology lives under. */
export const CONFIG_KEY = "datalake:lake";

export const COMPRESSION_FORMATS = ["UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"] as const;
export type CompressionFormat = (typeof COMPRESSION_FORMATS)[number];

export const CAPACITY_MODES = ["provisioned", "on-demand"] as const;
export type CapacityMode = (typeof CAPACITY_MODES)[number];

/** Defaults applied to every segment that does not set the key. */
export const DEFAULTS = {
  mode: "provisioned" as CapacityMode,
  shards: 1,
  /** Kinesis' own minimum and default retention. */
  retentionHours: 24,
  /** Firehose waits up to 5 minutes ... */
  bufferSeconds: 300,
  /** ... or 64 MiB, whichever comes first: fewer, larger objects suit a data lake's query engines. */
  bufferMiB: 64,
  compression: "GZIP" as CompressionFormat,
};

/** Alarm defaults (issue 10); see model/alarms.ts for what each alarm watches. */
export const ALARM_DEFAULTS = {
  enabled: true,
  /** Consumer lag alarm: the oldest unread record reached this share of the retention (data expires at 100%). */
  iteratorAgePercentOfRetention: 50,
  /** Wire-tap freshness alarm: the buffer interval plus this margin. */
  freshnessMarginSeconds: 300,
};

/** Backup defaults (issue 20); see components/replica.ts for what a backup is. */
export const BACKUP_DEFAULTS = {
  /** Days each replicated object version stays locked (S3 Object Lock, compliance mode) from when it was written. */
  objectLockDays: 30,
  /** S3 Replication Time Control (a 15-minute SLA, billed per GB replicated) is off: README "Backup and recovery". */
  timeControl: false,
};

/** AWS ranges enforced here instead of at deploy time. */
export const RANGES = {
  shards: { min: 1, max: 4096 },
  retentionHours: { min: 24, max: 8760 },
  bufferSeconds: { min: 0, max: 900 },
  bufferMiB: { min: 1, max: 128 },
  iteratorAgePercentOfRetention: { min: 1, max: 99 },
  freshnessMarginSeconds: { min: 60, max: 86400 },
  /** S3 Object Lock default retention in days: at least 1, at most 100 years. */
  objectLockDays: { min: 1, max: 36500 },
};

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

/** One thing wrong with the config: where, what was given, and what is allowed. */
export interface ConfigProblem {
  path: string;
  value: unknown;
  message: string;
}

/** Thrown when the topology is invalid; the message lists every problem, one per line. */
export class LakeConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = "LakeConfigError";
  }
}

const intIn = (what: string, min: number, max: number) =>
  z
    .number({ error: `${what} must be a whole number from ${min} to ${max}` })
    .int({ error: `${what} must be a whole number from ${min} to ${max}` })
    .min(min, { error: `${what} must be a whole number from ${min} to ${max}` })
    .max(max, { error: `${what} must be a whole number from ${min} to ${max}` });

const wireTapSchema = z.strictObject(
  {
    bufferSeconds: intIn("bufferSeconds (Firehose buffering interval)", RANGES.bufferSeconds.min, RANGES.bufferSeconds.max).optional(),
    bufferMiB: intIn("bufferMiB (Firehose buffering size)", RANGES.bufferMiB.min, RANGES.bufferMiB.max).optional(),
    compression: z.enum(COMPRESSION_FORMATS, { error: `compression must be one of ${COMPRESSION_FORMATS.join(", ")}` }).optional(),
  },
  { error: "wireTap must be a map of bufferSeconds, bufferMiB and compression" },
);

const alarmsSchema = z.strictObject(
  {
    enabled: z.boolean({ error: "enabled must be true or false" }).optional(),
    iteratorAgePercentOfRetention: intIn(
      "iteratorAgePercentOfRetention",
      RANGES.iteratorAgePercentOfRetention.min,
      RANGES.iteratorAgePercentOfRetention.max,
    ).optional(),
    freshnessMarginSeconds: intIn("freshnessMarginSeconds", RANGES.freshnessMarginSeconds.min, RANGES.freshnessMarginSeconds.max).optional(),
  },
  { error: "alarms must be a map of enabled, iteratorAgePercentOfRetention and freshnessMarginSeconds" },
);

const alertsSchema = z.strictObject(
  {
    email: z
      .string({ error: "email must be a string" })
      .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, { error: "email must be an e-mail address like oncall@example.com" })
      .optional(),
  },
  { error: "alerts must be a map with email" },
);

const backupSchema = z.strictObject(
  {
    region: z.string({ error: 'region must be an AWS region code such as "eu-central-1"' }),
    objectLockDays: intIn("objectLockDays (S3 Object Lock retention)", RANGES.objectLockDays.min, RANGES.objectLockDays.max).optional(),
    timeControl: z.boolean({ error: "timeControl (S3 Replication Time Control) must be true or false" }).optional(),
  },
  { error: "backup must be a map of region and optionally objectLockDays and timeControl" },
);

const segmentSchema = z.strictObject(
  {
    mode: z.enum(CAPACITY_MODES, { error: `mode must be "provisioned" or "on-demand"` }).optional(),
    shards: intIn("shards", RANGES.shards.min, RANGES.shards.max).optional(),
    retentionHours: intIn("retentionHours", RANGES.retentionHours.min, RANGES.retentionHours.max).optional(),
    // `wireTap:` with every setting commented out reads as null: same as leaving it out.
    wireTap: wireTapSchema.nullable().optional(),
    // Column names and types are checked with the topology (model/archive.ts schemaProblems).
    schema: z.record(z.string(), z.unknown(), { error: "schema must be a map of column name to type" }).optional(),
    alarms: alarmsSchema.nullable().optional(),
    // Names, uniqueness, account ids and role ARNs are checked with the topology (model/safety.ts).
    consumers: consumersSchema.nullable().optional(),
    share: shareSchema.nullable().optional(),
    backup: z.boolean({ error: "backup must be true or false (false leaves the segment out of the lake's backup)" }).optional(),
    // Names, uniqueness and the consumers groups read through are checked with the topology (model/groups.ts).
    groups: groupsSchema.nullable().optional(),
  },
  { error: "a segment's settings must be a map of mode, shards, retentionHours and wireTap, and optionally alarms (or {} for the defaults)" },
);

const layerSchema = z.strictObject(
  {
    segments: z.record(z.string(), segmentSchema.nullable(), { error: "segments must be a map of segment name to settings" }),
  },
  { error: "a layer must be a map with segments: { <segment name>: settings }" },
);

const routeSchema = z.strictObject(
  {
    name: z.string({ error: "name must be a string" }).optional(),
    from: z.string({ error: 'from must be a segment address "layer/segment"' }),
    to: z.string({ error: 'to must be a segment address "layer/segment"' }),
    filter: z.record(z.string(), z.unknown(), { error: "filter must be an EventBridge pattern object" }).optional(),
    filterAt: z.enum(["function", "mapping"], { error: 'filterAt must be "function" or "mapping"' }).optional(),
    ...processorRouteShape,
  },
  { error: "each route must be a map of from, to and optionally name, filter, filterAt, transform, aggregate, failure, batchSize and startAt" },
);

const lakeSchema = z.strictObject(
  {
    name: z.string({ error: "name must be a string" }).optional(),
    layers: z.record(z.string(), layerSchema, { error: "layers must be a map of layer name to { segments: ... }" }),
    // `routes:` with every route commented out reads as null: same as no routes.
    routes: z.array(routeSchema, { error: "routes must be a list of { from, to, filter }" }).nullable().optional(),
    alerts: alertsSchema.nullable().optional(),
    // `backup:` with every setting commented out reads as null: same as leaving it out (no backup).
    backup: backupSchema.nullable().optional(),
  },
  { error: "the topology must be a map of layers (and optionally name and routes)" },
);

/** Where a problem is: `datalake:lake.layers.ingest.segments.orders.shards`, `datalake:lake.routes[0].to`. */
export function configPath(path: ReadonlyArray<PropertyKey>): string {
  let out = CONFIG_KEY;
  for (const part of path) out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return out;
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  // Room for a whole over-long physical name or a loop of several addresses; cut only what is unreadable anyway.
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

export function formatProblems(problems: ConfigProblem[]): string {
  const head =
    problems.length === 1
      ? `Invalid ${CONFIG_KEY} config: 1 problem.`
      : `Invalid ${CONFIG_KEY} config: ${problems.length} problems.`;
  const lines = problems.map((p) => `  - ${p.path}: ${p.message} (got ${show(p.value)})`);
  return [head, ...lines, `Fix these in Pulumi.<stack>.yaml (or with \`pulumi config set --path\`) and run again.`].join("\n");
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/**
 * Allowed keys of each strict object, by the depth of its path (not by key names: a segment may be
 * called anything, including "wireTap").
 */
function allowedKeys(path: ReadonlyArray<PropertyKey>): string[] {
  const named = path.filter((p) => typeof p === "string") as string[];
  const depth = named.length;
  if (depth === 0) return Object.keys(lakeSchema.shape);
  if (named[0] === "routes") return processorKeysAt(named[1]) ?? Object.keys(routeSchema.shape); // routes[i](.transform|aggregate|failure)
  if (named[0] === "alerts") return Object.keys(alertsSchema.shape); // alerts
  if (named[0] === "backup") return Object.keys(backupSchema.shape); // backup
  if (depth === 2) return Object.keys(layerSchema.shape); // layers.<layer>
  if (depth === 4) return Object.keys(segmentSchema.shape); // layers.<layer>.segments.<segment>
  if (named[4] === "alarms") return Object.keys(alarmsSchema.shape); // layers.<layer>.segments.<segment>.alarms
  if (named[4] === "share") return Object.keys(shareSchema.shape); // layers.<layer>.segments.<segment>.share
  if (named[4] === "groups") return GROUP_KEYS; // layers.<layer>.segments.<segment>.groups[i]
  return Object.keys(wireTapSchema.shape); // layers.<layer>.segments.<segment>.wireTap
}

/** The allowed key the user most likely meant: the closest within 2 edits, else the only one it abbreviates. */
function suggestKey(allowed: string[], key: string): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of allowed) {
    const d = editDistance(k.toLowerCase(), lower);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  if (best) return best;
  const prefixed = lower.length >= 4 ? allowed.filter((k) => k.toLowerCase().startsWith(lower)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

function unknownKeyProblem(path: ReadonlyArray<PropertyKey>, key: string, input: unknown): ConfigProblem {
  const allowed = allowedKeys(path);
  const close = suggestKey(allowed, key);
  const hint = close ? `; did you mean "${close}"?` : "";
  const value = input && typeof input === "object" ? (input as Record<string, unknown>)[key] : undefined;
  return {
    path: configPath([...path, key]),
    value,
    message: `unknown key; allowed keys here are ${allowed.join(", ")}${hint}`,
  };
}

function nameProblem(path: PropertyKey[], kind: string, name: string): ConfigProblem | undefined {
  return NAME_PATTERN.test(name)
    ? undefined
    : { path: configPath(path), value: name, message: `${kind} name must use ${NAME_RULE}` };
}

function lengthProblems(path: PropertyKey[], checks: NameCheck[]): ConfigProblem[] {
  return checks
    .filter((c) => c.name.length > c.limit)
    .map((c) => ({
      path: configPath(path),
      value: c.name,
      message: `${c.what} would be ${c.name.length} characters, over AWS's limit of ${c.limit}; shorten the lake, layer or segment name by ${c.name.length - c.limit}`,
    }));
}

/** Checks an EventBridge pattern's shape: a non-empty object whose leaves are non-empty arrays. */
function patternProblems(pattern: unknown, path: PropertyKey[]): ConfigProblem[] {
  if (pattern === null || typeof pattern !== "object" || Array.isArray(pattern)) {
    return [{ path: configPath(path), value: pattern, message: "each pattern field must be a list of values or a nested object" }];
  }
  const entries = Object.entries(pattern as Record<string, unknown>);
  if (entries.length === 0) {
    return [{ path: configPath(path), value: pattern, message: "a filter pattern must name at least one field" }];
  }
  return entries.flatMap(([key, value]) => {
    if (Array.isArray(value)) {
      if (value.length === 0) {
        return [{ path: configPath([...path, key]), value, message: "a pattern list must hold at least one value or matcher" }];
      }
      return patternMatcherProblems({ [key]: value }).map(([, message]) => ({ path: configPath([...path, key]), value, message }));
    }
    return patternProblems(value, [...path, key]);
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);
const asRecord = (value: unknown): Record<string, unknown> => (isRecord(value) ? value : {});

/** Why the backup region cannot hold the lake's backup; empty when it can (or the schema reports the value). */
function backupRegionProblems(region: unknown, stackRegion: string | undefined): ConfigProblem[] {
  if (typeof region !== "string") return [];
  const path = configPath(["backup", "region"]);
  if (!AWS_REGIONS.includes(region)) {
    const close = suggestKey([...AWS_REGIONS], region);
    return [{ path, value: region, message: `is not an AWS region code${close ? `; did you mean "${close}"?` : ""}; use one such as "eu-central-1"` }];
  }
  if (stackRegion === undefined) return [];
  if (region === stackRegion) {
    return [{ path, value: region, message: `is the stack's own region (aws:region); a backup there is lost with that region, so choose another region` }];
  }
  const [stackPartition, backupPartition] = [partitionOfRegion(stackRegion), partitionOfRegion(region)];
  if (stackPartition && backupPartition && stackPartition !== backupPartition) {
    return [
      {
        path,
        value: region,
        message: `is in partition ${backupPartition} but the stack's region ${stackRegion} is in ${stackPartition}; S3 replicates only within a partition, so choose a region of ${stackPartition}`,
      },
    ];
  }
  return [];
}

/** A route as far as its shape could be read; checks below skip what the schema already reports. */
interface LooseRoute {
  name?: unknown;
  from?: unknown;
  to?: unknown;
  filter?: unknown;
}

/**
 * Checks that need the whole topology: names, lengths, modes, empty layers, routes. Reads the raw value
 * defensively so that these problems are reported together with the schema's own in one message.
 */
function topologyProblems(rawInput: unknown, lakeName: string, stackRegion: string | undefined): ConfigProblem[] {
  const raw = asRecord(rawInput);
  const problems: ConfigProblem[] = [];
  const lakeNameProblem = nameProblem(["name"], "lake", lakeName);
  if (lakeNameProblem) {
    problems.push({ ...lakeNameProblem, message: `${lakeNameProblem.message}; set ${CONFIG_KEY}.name to such a name` });
  }
  const backupOn = isRecord(raw.backup);
  if (backupOn) problems.push(...backupRegionProblems(asRecord(raw.backup).region, stackRegion));

  const layerEntries = Object.entries(asRecord(raw.layers));
  // Only for an empty map: a missing or mistyped `layers` is the schema's to report.
  if (layerEntries.length === 0 && isRecord(raw.layers)) {
    problems.push({ path: configPath(["layers"]), value: raw.layers, message: "a lake needs at least one layer with one segment" });
  }
  const addresses = new Set<string>();
  /** Layers and segments with valid names, for the checks that need the whole lake (model/safety.ts). */
  const outline: LayerOutline[] = [];
  /** Segment logical name (`layer-segment`, the stem of every physical name) -> address that took it. */
  const stems = new Map<string, string>();
  for (const [layer, layerRaw] of layerEntries) {
    const layerPath = ["layers", layer];
    const bad = nameProblem(layerPath, "layer", layer);
    if (bad) problems.push(bad);
    else if (!lakeNameProblem) problems.push(...lengthProblems(layerPath, layerNameChecks(lakeName, layer)));
    const segmentsRaw = asRecord(layerRaw).segments;
    const segments = Object.entries(asRecord(segmentsRaw));
    const outlined: LayerOutline = { name: layer, segments: [] };
    if (!bad) outline.push(outlined);
    if (segments.length === 0 && isRecord(segmentsRaw)) {
      problems.push({ path: configPath([...layerPath, "segments"]), value: segmentsRaw, message: "a layer needs at least one segment" });
    }
    // The layer's backup key and replication role exist once any of its segments is backed up.
    if (backupOn && !bad && !lakeNameProblem && segments.some(([, v]) => asRecord(v).backup !== false)) {
      problems.push(...lengthProblems(layerPath, layerBackupNameChecks(lakeName, layer)));
    }
    for (const [segment, segValue] of segments) {
      const segRaw = asRecord(segValue);
      const segPath = [...layerPath, "segments", segment];
      const badSeg = nameProblem(segPath, "segment", segment);
      if (badSeg) problems.push(badSeg);
      else if (!bad && !lakeNameProblem) problems.push(...lengthProblems(segPath, segmentNameChecks(lakeName, layer, segment)));
      const address = segmentAddress(layer, segment);
      addresses.add(address);
      // "a-b/c" and "a/b-c" would both be named "<lake>-a-b-c": same stream, bucket and roles.
      const stem = segmentNames(lakeName, layer, segment, "").logicalName;
      const clash = stems.get(stem);
      if (!badSeg && !bad && clash !== undefined) {
        problems.push({
          path: configPath(segPath),
          value: address,
          message: `segment "${address}" would get the same resource names as "${clash}" (both "${lakeName}-${stem}"); rename one of them`,
        });
      } else if (!badSeg && !bad) {
        stems.set(stem, address);
      }
      if (isRecord(segRaw.schema)) {
        const schema = segRaw.schema;
        for (const [column, message] of schemaProblems(schema)) {
          problems.push({ path: configPath([...segPath, "schema", ...(column ? [column] : [])]), value: column ? schema[column] : schema, message });
        }
      }
      if (!badSeg && !bad && !lakeNameProblem) {
        outlined.segments.push({ name: segment, raw: segRaw });
        for (const [below, value, message] of [...segmentAccessProblems(lakeName, layer, segment, segRaw), ...segmentGroupProblems(lakeName, layer, segment, segRaw)]) {
          problems.push({ path: configPath(below), value, message });
        }
      }
      if (segRaw.backup === true && !backupOn) {
        problems.push({
          path: configPath([...segPath, "backup"]),
          value: true,
          message: `has no effect without ${CONFIG_KEY}.backup; add backup: { region: <another region> } to the lake, or remove this key`,
        });
      }
      if (backupOn && segRaw.backup !== false && !badSeg && !bad && !lakeNameProblem) {
        problems.push(
          ...lengthProblems(segPath, replicaNameChecks(lakeName, layer, segment)).map((p) => ({ ...p, message: `${p.message} (or set backup: false for this segment)` })),
        );
      }
      if (segRaw.mode === "on-demand" && segRaw.shards !== undefined) {
        problems.push({
          path: configPath([...segPath, "shards"]),
          value: segRaw.shards,
          message: 'shards cannot be set with mode "on-demand" (Kinesis sizes on-demand streams itself); remove shards or use mode "provisioned"',
        });
      }
    }
  }

  if (!lakeNameProblem) {
    // Each route's processor registers a consumer on its source stream: they count toward the stream's limit.
    const routeSources = (Array.isArray(raw.routes) ? raw.routes : []).map((r) => asRecord(r).from).filter((f): f is string => typeof f === "string");
    for (const [below, value, message] of lakeSafetyProblems(lakeName, outline, routeSources)) problems.push({ path: configPath(below), value, message });
  }

  const routeNames = new Map<string, number>();
  const edges = new Map<string, string[]>();
  const routes: LooseRoute[] = Array.isArray(raw.routes) ? raw.routes.map(asRecord) : [];
  routes.forEach((route, i) => {
    for (const end of ["from", "to"] as const) {
      const address = route[end];
      if (typeof address !== "string") continue; // the schema reports it
      if (!parseAddress(address)) {
        problems.push({ path: configPath(["routes", i, end]), value: address, message: 'must be a segment address "layer/segment"' });
      } else if (!addresses.has(address)) {
        const known = [...addresses].join(", ") || "none";
        problems.push({ path: configPath(["routes", i, end]), value: address, message: `names no segment of this lake; known segments: ${known}` });
      }
    }
    if (typeof route.from !== "string" || typeof route.to !== "string") return;
    if (route.from === route.to) {
      problems.push({ path: configPath(["routes", i, "to"]), value: route.to, message: "a route cannot lead back into its own segment" });
    }
    const name = typeof route.name === "string" ? route.name : defaultRouteName(route.from, route.to);
    const namePath = ["routes", i, typeof route.name === "string" ? "name" : "from"];
    if (typeof route.name === "string") {
      const badName = nameProblem(["routes", i, "name"], "route", route.name);
      if (badName) problems.push(badName);
    }
    if (routeNames.has(name)) {
      problems.push({
        path: configPath(namePath),
        value: name,
        message: `route name "${name}" is already used by routes[${routeNames.get(name)}]; give one of them a distinct name`,
      });
    }
    routeNames.set(name, i);
    if (!lakeNameProblem && NAME_PATTERN.test(name)) {
      problems.push(
        ...lengthProblems(namePath, routeNameChecks(lakeName, name, parseAddress(route.to)?.layer ?? "")).map((p) => ({
          ...p,
          message: `${p.message} (or give the route a shorter name)`,
        })),
      );
    }
    if (isRecord(route.filter)) {
      problems.push(...patternProblems(route.filter, ["routes", i, "filter"]));
      const length = routeFilterPattern(route.filter).length;
      if (length > FILTER_PATTERN_MAX_LENGTH) {
        problems.push({
          path: configPath(["routes", i, "filter"]),
          value: route.filter,
          message: `the filter is ${length} characters as a Lambda filter pattern, over the limit of ${FILTER_PATTERN_MAX_LENGTH}; simplify it or split the route`,
        });
      }
    }
    for (const [below, value, message] of processorRouteProblems(route as Record<string, unknown>)) {
      problems.push({ path: configPath(["routes", i, ...below]), value, message });
    }
    // An aggregating route's target without a schema of its own gets one derived from the aggregate.
    const target = parseAddress(route.to);
    const targetRaw = target && asRecord(asRecord(asRecord(asRecord(raw.layers)[target.layer]).segments)[target.segment]);
    const aggregate = (route as Record<string, unknown>).aggregate;
    if (isRecord(aggregate) && targetRaw && !isRecord(targetRaw.schema)) {
      for (const [below, value, message] of aggregateFieldProblems(aggregate, route.to)) {
        problems.push({ path: configPath(["routes", i, ...below]), value, message });
      }
    }
    if (route.from !== route.to) edges.set(route.from, [...(edges.get(route.from) ?? []), route.to]);
  });

  const cycle = findCycle(edges);
  if (cycle) {
    problems.push({
      path: configPath(["routes"]),
      value: cycle.join(" -> "),
      message: "routes form a loop, which would copy records forever; remove one route of the loop",
    });
  }
  return problems;
}

/** A loop in the route graph, as the list of addresses along it; undefined when there is none. */
function findCycle(edges: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, "open");
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of edges.keys()) {
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}

/** `<project>-<stack>`, lowercased, with characters that names cannot hold turned into "-". */
export function defaultLakeName(ctx: ParseContext): string {
  return `${ctx.project}-${ctx.stack}`.toLowerCase().replace(/[^a-z0-9-]/g, "-");
}

export interface ParseContext {
  /** Pulumi project name, for the default lake name. */
  project: string;
  /** Pulumi stack name, for the default lake name. */
  stack: string;
  /** The stack's `aws:region`: the backup region must differ from it and share its partition. @default unchecked */
  region?: string;
}

/**
 * Validates the raw `datalake:lake` value and applies defaults.
 * @throws LakeConfigError listing every problem found.
 */
export function parseLakeConfig(raw: unknown, ctx: ParseContext): LakeConfig {
  if (raw === undefined || raw === null) {
    throw new LakeConfigError([
      {
        path: CONFIG_KEY,
        value: raw,
        message: "the stack has no topology; add `datalake:lake` with at least one layer and segment to Pulumi.<stack>.yaml",
      },
    ]);
  }
  const parsed = lakeSchema.safeParse(raw, { reportInput: true });
  const problems: ConfigProblem[] = parsed.success
    ? []
    : parsed.error.issues.flatMap((issue): ConfigProblem[] => {
        if (issue.code === "unrecognized_keys") {
          return issue.keys.map((key) => unknownKeyProblem(issue.path, key, issue.input));
        }
        // YAML `shards: "2"` (quoted) is a string; say so, rather than only "must be a whole number".
        const quotedNumber =
          issue.code === "invalid_type" && issue.expected === "number" && typeof issue.input === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(issue.input);
        const message = quotedNumber ? `${issue.message}; write it without quotes` : issue.message;
        return [{ path: configPath(issue.path), value: issue.input, message }];
      });
  const rawName = asRecord(raw).name;
  const name = typeof rawName === "string" ? rawName : defaultLakeName(ctx);
  problems.push(...topologyProblems(raw, name, ctx.region));
  if (!parsed.success || problems.length > 0) {
    throw new LakeConfigError([...problems].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
  }
  const lake = parsed.data;
  // Aggregating routes by target: a target without a schema gets one that fits their window results.
  const aggregatesInto = new Map<string, NonNullable<ProcessorRouteConfig["aggregate"]>[]>();
  for (const r of lake.routes ?? []) {
    const aggregate = processorRouteConfig(r).aggregate;
    if (aggregate) aggregatesInto.set(r.to, [...(aggregatesInto.get(r.to) ?? []), aggregate]);
  }

  const layers: LayerConfig[] = Object.entries(lake.layers).map(([layer, layerRaw]) => ({
    name: layer,
    segments: Object.entries(layerRaw.segments).map(([segment, segRaw]): SegmentConfig => {
      const mode = segRaw?.mode ?? DEFAULTS.mode;
      return {
        layer,
        name: segment,
        address: segmentAddress(layer, segment),
        mode,
        shards: mode === "on-demand" ? undefined : (segRaw?.shards ?? DEFAULTS.shards),
        retentionHours: segRaw?.retentionHours ?? DEFAULTS.retentionHours,
        wireTap: {
          bufferSeconds: segRaw?.wireTap?.bufferSeconds ?? DEFAULTS.bufferSeconds,
          bufferMiB: segRaw?.wireTap?.bufferMiB ?? DEFAULTS.bufferMiB,
          compression: segRaw?.wireTap?.compression ?? DEFAULTS.compression,
        },
        schema:
          (segRaw?.schema as SegmentSchema | undefined) ??
          (aggregatesInto.has(segmentAddress(layer, segment)) ? aggregateResultSchema(aggregatesInto.get(segmentAddress(layer, segment))!) : { ...DEFAULT_SCHEMA }),
        alarms: {
          enabled: segRaw?.alarms?.enabled ?? ALARM_DEFAULTS.enabled,
          iteratorAgePercentOfRetention: segRaw?.alarms?.iteratorAgePercentOfRetention ?? ALARM_DEFAULTS.iteratorAgePercentOfRetention,
          freshnessMarginSeconds: segRaw?.alarms?.freshnessMarginSeconds ?? ALARM_DEFAULTS.freshnessMarginSeconds,
        },
        consumers: [...(segRaw?.consumers ?? [])],
        share: { producers: [...(segRaw?.share?.producers ?? [])], consumers: [...(segRaw?.share?.consumers ?? [])] },
        backup: Boolean(lake.backup) && segRaw?.backup !== false,
        groups: parseGroups(segRaw?.groups),
      };
    }),
  }));
  return {
    name,
    layers,
    segments: layers.flatMap((l) => l.segments),
    routes: (lake.routes ?? []).map((r) => ({
      name: r.name ?? defaultRouteName(r.from, r.to),
      from: r.from,
      to: r.to,
      filter: r.filter,
      filterAt: r.filterAt ?? "function",
      ...processorRouteConfig(r),
    })),
    alerts: { email: lake.alerts?.email },
    ...(lake.backup
      ? {
          backup: {
            region: lake.backup.region,
            objectLockDays: lake.backup.objectLockDays ?? BACKUP_DEFAULTS.objectLockDays,
            timeControl: lake.backup.timeControl ?? BACKUP_DEFAULTS.timeControl,
          },
        }
      : {}),
  };
}
