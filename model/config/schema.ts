/** The topology's schema (zod strict objects) and the unknown-key problem it leads to. */
import { z } from "zod";
import { GROUP_KEYS, groupsSchema } from "../groups";
import { processorKeysAt, processorRouteShape } from "../processor/config-schema";
import { consumersSchema, shareSchema } from "../safety";
import { CAPACITY_MODES, COMPRESSION_FORMATS, RANGES } from "./defaults";
import { configPath, type ConfigProblem, suggestKey } from "./problems";

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

export const lakeSchema = z.strictObject(
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

export function unknownKeyProblem(path: ReadonlyArray<PropertyKey>, key: string, input: unknown): ConfigProblem {
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
