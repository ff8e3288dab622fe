/**
 * Tumbling-window aggregation, as pure functions over the state Lambda carries between the invocations
 * of one window of one shard. The handler folds each batch into the state and, on the window's final
 * invocation, turns the state into one output record per group.
 */
import { AggregateSpec, JsonValue } from "./spec";
import { JsonObject } from "./transform";

/** One group's running totals. */
export interface GroupTotals {
  key: JsonObject;
  count: number;
  sum: Record<string, number>;
  min: Record<string, number>;
  max: Record<string, number>;
}

/** The state a processor returns to Lambda (a JSON object, at most 1 MB per shard). */
export interface WindowState {
  /** Totals by group, keyed by the group key's JSON. */
  groups: Record<string, GroupTotals>;
}

/** The state of a window that has seen nothing; also what a missing or foreign state reads as. */
export function emptyState(): WindowState {
  return { groups: {} };
}

/** Reads the `state` Lambda passed in; anything else (first invocation of a window: `{}`) is empty. */
export function readState(state: unknown): WindowState {
  if (state && typeof state === "object" && "groups" in state) {
    const groups = (state as { groups: unknown }).groups;
    if (groups && typeof groups === "object" && !Array.isArray(groups)) return { groups: groups as Record<string, GroupTotals> };
  }
  return emptyState();
}

/** The group key of a record: its `groupBy` fields, a missing one as null. */
export function groupKey(record: JsonObject, spec: AggregateSpec): JsonObject {
  const key: JsonObject = {};
  for (const field of spec.groupBy) key[field] = Object.prototype.hasOwnProperty.call(record, field) ? record[field] : null;
  return key;
}

const numberOf = (v: JsonValue | undefined): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/**
 * Folds one record into the state (mutates and returns it). A sum/min/max field that is missing or not
 * a number is left out of that field's totals; the record still counts.
 */
export function addRecord(state: WindowState, record: JsonObject, spec: AggregateSpec): WindowState {
  const key = groupKey(record, spec);
  const id = JSON.stringify(spec.groupBy.map((f) => key[f]));
  const g = (state.groups[id] ??= { key, count: 0, sum: {}, min: {}, max: {} });
  g.count++;
  for (const f of spec.sum) {
    const n = numberOf(record[f]);
    if (n !== undefined) g.sum[f] = (g.sum[f] ?? 0) + n;
  }
  for (const f of spec.min) {
    const n = numberOf(record[f]);
    if (n !== undefined) g.min[f] = g.min[f] === undefined ? n : Math.min(g.min[f], n);
  }
  for (const f of spec.max) {
    const n = numberOf(record[f]);
    if (n !== undefined) g.max[f] = g.max[f] === undefined ? n : Math.max(g.max[f], n);
  }
  return state;
}

/** The window bounds Lambda passes (`event.window`). */
export interface WindowBounds {
  start: string;
  end: string;
}

/**
 * One output record per group, sorted by group key:
 * `{"window":{"start","end"},"key":{...},"count":n,"sum":{...},"min":{...},"max":{...}}` with only the
 * totals the route asks for (`count` when `count: true`, `sum`/`min`/`max` when those lists are set).
 */
export function windowResults(state: WindowState, window: WindowBounds, spec: AggregateSpec): JsonObject[] {
  return Object.keys(state.groups)
    .sort()
    .map((id) => {
      const g = state.groups[id];
      const out: JsonObject = { window: { start: window.start, end: window.end }, key: g.key };
      if (spec.count) out.count = g.count;
      if (spec.sum.length > 0) out.sum = pick(g.sum, spec.sum);
      if (spec.min.length > 0) out.min = pick(g.min, spec.min);
      if (spec.max.length > 0) out.max = pick(g.max, spec.max);
      return out;
    });
}

/** Totals in config order; a field no record had a number for is null. */
function pick(totals: Record<string, number>, fields: string[]): JsonObject {
  const out: JsonObject = {};
  for (const f of fields) out[f] = totals[f] ?? null;
  return out;
}

/** Partition key of a window result: the group key's values, so a key's results stay on one shard. */
export function resultPartitionKey(key: JsonObject, spec: AggregateSpec): string {
  const text = spec.groupBy.length === 0 ? "all" : JSON.stringify(spec.groupBy.map((f) => key[f]));
  // Kinesis partition keys are 1-256 Unicode characters; longer keys are cut (they only pick the shard).
  return text.length <= 256 ? text : text.slice(0, 256);
}
