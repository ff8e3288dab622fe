/**
 * What a processor (a route) does, as plain data: the part of a route's config its handler needs, the
 * failure settings of its event source mapping, and their defaults and AWS ranges. Pure: shared by the
 * config check (model/config.ts), the Pulumi component, the Lambda handler and the local lake.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A declarative projection of a JSON object record. Applied in this order: select, rename, set. */
export interface TransformSpec {
  /** Top-level fields to keep (others are dropped; a missing field stays missing). @default every field */
  select?: string[];
  /** Top-level fields to rename, `{old: new}`, after `select`. @default none */
  rename?: Record<string, string>;
  /** Top-level fields set to constants, last (they override). @default none */
  set?: Record<string, JsonValue>;
}

/** Tumbling-window aggregation: one output record per group per window (per source shard). */
export interface AggregateSpec {
  /** Window length in seconds, 1-900 (Lambda's `TumblingWindowInSeconds` range). */
  windowSeconds: number;
  /** Top-level fields whose values form the group key. @default [] (one group per window) */
  groupBy: string[];
  /** Count the records of each group. @default false */
  count: boolean;
  /** Numeric fields to add up per group. @default [] */
  sum: string[];
  /** Numeric fields whose smallest value to keep per group. @default [] */
  min: string[];
  /** Numeric fields whose largest value to keep per group. @default [] */
  max: string[];
}

/** Where a new processor starts reading its source (the event source mapping's starting position). */
export type StartAt = { type: "trim-horizon" } | { type: "latest" } | { type: "at-timestamp"; timestamp: string };

/** Bounded failure: the event source mapping's retry settings. */
export interface FailureSpec {
  /** Retries of a failing batch before it goes to the dead-letter queue, 0-10. @default 3 */
  maximumRetryAttempts: number;
  /** Records older than this go to the dead-letter queue unprocessed, 60-604800 s. @default 3600 */
  maximumRecordAgeInSeconds: number;
  /** Split a failing batch in two and retry each half (isolates a poison record). @default true */
  bisectBatchOnFunctionError: boolean;
  /** Records per invocation, 1-10000 (Lambda's Kinesis range). @default 100 */
  batchSize: number;
}

export const FAILURE_DEFAULTS: FailureSpec = {
  maximumRetryAttempts: 3,
  maximumRecordAgeInSeconds: 3600,
  bisectBatchOnFunctionError: true,
  batchSize: 100,
};

/**
 * Ranges this project allows. Lambda itself allows -1 (forever) for retries and record age; a forever
 * setting lets one poison record block its shard for the stream's whole retention, so it is refused.
 */
export const FAILURE_RANGES = {
  maximumRetryAttempts: { min: 0, max: 10 },
  maximumRecordAgeInSeconds: { min: 60, max: 604_800 },
  batchSize: { min: 1, max: 10_000 },
  windowSeconds: { min: 1, max: 900 },
};

/** What the handler of one processor needs; baked into its code package as `spec.json`. */
export interface ProcessorSpec {
  /** Route name (for logs and dead-letter messages). */
  route: string;
  /** Source and target segment addresses, for messages. */
  from: string;
  to: string;
  /** The route's filter, applied by the handler to the user records inside KPL aggregates only. */
  filter?: Record<string, unknown>;
  transform?: TransformSpec;
  aggregate?: AggregateSpec;
}

/** What the handler of a route needs, from the route's parsed config (baked into its package as spec.json). */
export function processorSpec(route: {
  name: string;
  from: string;
  to: string;
  filter?: Record<string, unknown>;
  transform?: TransformSpec;
  aggregate?: AggregateSpec;
}): ProcessorSpec {
  const spec: ProcessorSpec = { route: route.name, from: route.from, to: route.to };
  if (route.filter) spec.filter = route.filter;
  if (route.transform) spec.transform = route.transform;
  if (route.aggregate) spec.aggregate = route.aggregate;
  return spec;
}
