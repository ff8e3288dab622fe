/**
 * The processor part of a route's config (`transform`, `aggregate`, `failure`, `batchSize`, `startAt`):
 * zod shapes for model/config.ts's route schema, the checks that need more than one key, and the
 * conversion to the specs the handler and the component use. Pure.
 */
import { z } from "zod";
import { AggregateSpec, FAILURE_DEFAULTS, FAILURE_RANGES, FailureSpec, JsonValue, StartAt, TransformSpec } from "./spec";

const fieldName = z.string({ error: "a field name must be a string" }).min(1, { error: "a field name cannot be empty" });
const fieldList = (what: string) =>
  z.array(fieldName, { error: `${what} must be a list of field names` }).min(1, { error: `${what} must name at least one field (or leave it out)` });
const intIn = (what: string, min: number, max: number) =>
  z
    .number({ error: `${what} must be a whole number from ${min} to ${max}` })
    .int({ error: `${what} must be a whole number from ${min} to ${max}` })
    .min(min, { error: `${what} must be a whole number from ${min} to ${max}` })
    .max(max, { error: `${what} must be a whole number from ${min} to ${max}` });

export const transformSchema = z.strictObject(
  {
    select: fieldList("select").optional(),
    rename: z.record(z.string(), fieldName, { error: "rename must be a map of old field name to new field name" }).optional(),
    set: z.record(z.string(), z.json(), { error: "set must be a map of field name to a constant value" }).optional(),
  },
  { error: "transform must be a map of select, rename and set" },
);

export const aggregateSchema = z.strictObject(
  {
    windowSeconds: intIn("windowSeconds", FAILURE_RANGES.windowSeconds.min, FAILURE_RANGES.windowSeconds.max),
    groupBy: fieldList("groupBy").optional(),
    count: z.boolean({ error: "count must be true or false" }).optional(),
    sum: fieldList("sum").optional(),
    min: fieldList("min").optional(),
    max: fieldList("max").optional(),
  },
  { error: "aggregate must be a map of windowSeconds, groupBy, count, sum, min and max" },
);

export const failureSchema = z.strictObject(
  {
    maximumRetryAttempts: intIn("maximumRetryAttempts", FAILURE_RANGES.maximumRetryAttempts.min, FAILURE_RANGES.maximumRetryAttempts.max).optional(),
    maximumRecordAgeInSeconds: intIn(
      "maximumRecordAgeInSeconds",
      FAILURE_RANGES.maximumRecordAgeInSeconds.min,
      FAILURE_RANGES.maximumRecordAgeInSeconds.max,
    ).optional(),
    bisectBatchOnFunctionError: z.boolean({ error: "bisectBatchOnFunctionError must be true or false" }).optional(),
  },
  { error: "failure must be a map of maximumRetryAttempts, maximumRecordAgeInSeconds and bisectBatchOnFunctionError" },
);

export const batchSizeSchema = intIn("batchSize", FAILURE_RANGES.batchSize.min, FAILURE_RANGES.batchSize.max);

export const START_AT_HINT = 'startAt must be "trim-horizon", "latest" or an ISO-8601 time with a zone, e.g. "2026-11-26T12:00:00Z"';
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
export const startAtSchema = z
  .string({ error: START_AT_HINT })
  .refine((v) => v === "trim-horizon" || v === "latest" || (ISO_WITH_ZONE.test(v) && !Number.isNaN(Date.parse(v))), { error: START_AT_HINT });

/** The keys model/config.ts adds to its route schema. */
export const processorRouteShape = {
  transform: transformSchema.optional(),
  aggregate: aggregateSchema.optional(),
  failure: failureSchema.nullable().optional(),
  batchSize: batchSizeSchema.optional(),
  startAt: startAtSchema.optional(),
};

/** Allowed keys of a nested route map, for "unknown key" messages (`routes[i].<key>.<unknown>`). */
export function processorKeysAt(key: string): string[] | undefined {
  if (key === "transform") return Object.keys(transformSchema.shape);
  if (key === "aggregate") return Object.keys(aggregateSchema.shape);
  if (key === "failure") return Object.keys(failureSchema.shape);
  return undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A problem below a route: the path under `routes[i]`, the value, and the message. */
export type RouteProblem = [path: PropertyKey[], value: unknown, message: string];

/** Checks that span keys of one route (its raw value, read defensively: the schema reports shapes). */
export function processorRouteProblems(route: Record<string, unknown>): RouteProblem[] {
  const out: RouteProblem[] = [];
  const t = route.transform;
  const a = route.aggregate;
  if (t !== undefined && a !== undefined) {
    out.push([["aggregate"], a, "a route either transforms or aggregates, not both; split it into two routes through an intermediate segment"]);
  }
  if (isRecord(t)) {
    if (t.select === undefined && t.rename === undefined && t.set === undefined) {
      out.push([["transform"], t, "a transform needs at least one of select, rename or set (or leave transform out)"]);
    }
    if (isRecord(t.rename)) {
      const renames = Object.entries(t.rename);
      if (renames.length === 0) out.push([["transform", "rename"], t.rename, "rename must rename at least one field (or leave it out)"]);
      const select = Array.isArray(t.select) ? (t.select as unknown[]) : undefined;
      for (const [from] of renames) {
        if (select && !select.includes(from)) {
          out.push([["transform", "rename", from], from, `renames "${from}", which select drops (select runs first); add it to select`]);
        }
      }
      const targets = renames.map(([, to]) => to);
      const dup = targets.find((to, i) => targets.indexOf(to) !== i);
      if (dup !== undefined) out.push([["transform", "rename"], t.rename, `two fields are renamed to "${String(dup)}"; each new name must be distinct`]);
    }
    if (isRecord(t.set) && Object.keys(t.set).length === 0) out.push([["transform", "set"], t.set, "set must set at least one field (or leave it out)"]);
  }
  if (isRecord(a)) {
    const asked = a.count === true || [a.sum, a.min, a.max].some((l) => Array.isArray(l) && l.length > 0);
    if (!asked) out.push([["aggregate"], a, "an aggregate needs count: true or at least one of sum, min, max"]);
    for (const key of ["groupBy", "sum", "min", "max"] as const) {
      const list = a[key];
      if (Array.isArray(list)) {
        const dup = list.find((f, i) => list.indexOf(f) !== i);
        if (dup !== undefined) out.push([["aggregate", key], list, `"${String(dup)}" is listed twice`]);
      }
    }
  }
  return out;
}

/** The parsed processor keys of a route (after the schema accepted them). */
export interface ProcessorRouteInput {
  transform?: { select?: string[]; rename?: Record<string, string>; set?: Record<string, unknown> };
  aggregate?: { windowSeconds: number; groupBy?: string[]; count?: boolean; sum?: string[]; min?: string[]; max?: string[] };
  failure?: { maximumRetryAttempts?: number; maximumRecordAgeInSeconds?: number; bisectBatchOnFunctionError?: boolean } | null;
  batchSize?: number;
  startAt?: string;
}

export interface ProcessorRouteConfig {
  transform: TransformSpec | undefined;
  aggregate: AggregateSpec | undefined;
  failure: FailureSpec;
  /** Where the processor starts reading; `explicit` false when the config left it to the default. */
  startAt: StartAt & { explicit: boolean };
}

/** Defaults applied: failure settings, aggregate lists, and `startAt: trim-horizon`. */
export function processorRouteConfig(r: ProcessorRouteInput): ProcessorRouteConfig {
  const startAt: StartAt =
    r.startAt === undefined || r.startAt === "trim-horizon"
      ? { type: "trim-horizon" }
      : r.startAt === "latest"
        ? { type: "latest" }
        : { type: "at-timestamp", timestamp: new Date(r.startAt).toISOString() };
  return {
    transform: r.transform ? { ...r.transform, set: r.transform.set as Record<string, JsonValue> | undefined } : undefined,
    aggregate: r.aggregate
      ? {
          windowSeconds: r.aggregate.windowSeconds,
          groupBy: r.aggregate.groupBy ?? [],
          count: r.aggregate.count ?? false,
          sum: r.aggregate.sum ?? [],
          min: r.aggregate.min ?? [],
          max: r.aggregate.max ?? [],
        }
      : undefined,
    failure: {
      maximumRetryAttempts: r.failure?.maximumRetryAttempts ?? FAILURE_DEFAULTS.maximumRetryAttempts,
      maximumRecordAgeInSeconds: r.failure?.maximumRecordAgeInSeconds ?? FAILURE_DEFAULTS.maximumRecordAgeInSeconds,
      bisectBatchOnFunctionError: r.failure?.bisectBatchOnFunctionError ?? FAILURE_DEFAULTS.bisectBatchOnFunctionError,
      batchSize: r.batchSize ?? FAILURE_DEFAULTS.batchSize,
    },
    startAt: { ...startAt, explicit: r.startAt !== undefined },
  };
}
