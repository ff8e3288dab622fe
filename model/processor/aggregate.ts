/**
 * Tumbling-window aggregation, as pure functions over the state Lambda carries between the invocations
 * of one window of one shard. The handler folds each batch into the state and, on the window's final
 * invocation, turns the state into one output record per group.
 *
 * Totals are IEEE-754 doubles (a number a double cannot hold exactly is rounded; one beyond the range,
 * such as 1e400, counts as ±Infinity). A total that ends up outside the double range (a sum past
 * ±1.7976931348623157e308, or a min/max that is such a value) is an **overflow**: the result writes it
 * as `null` and names it in `"overflow": ["sum.amount", …]`, so it is never mistaken for "no number
 * seen" (`null` without an entry in `overflow`). The state crosses Lambda's JSON between invocations,
 * which cannot carry Infinity, so non-finite totals are written into it as the strings "Infinity",
 * "-Infinity", "NaN" and read back as numbers: one invocation or many give the same result.
 * Group keys keep their values exactly as published (json.ts `canonicalValue`).
 */
import { canonicalValue, parseLossless, RecordValue, stringifyLossless, toDouble } from "./json";
import { AggregateSpec } from "./spec";
import { JsonObject } from "./transform";

type Total = "sum" | "min" | "max";
const TOTALS: Total[] = ["sum", "min", "max"];

/** One group's running totals (in memory; may hold ±Infinity or NaN). */
export interface GroupTotals {
  key: JsonObject;
  count: number;
  sum: Record<string, number>;
  min: Record<string, number>;
  max: Record<string, number>;
}

/** The running totals of a window. */
export interface WindowState {
  /** Totals by group, keyed by the group key's values as JSON (their exact text). */
  groups: Record<string, GroupTotals>;
}

/** The state of a window that has seen nothing; also what a missing or foreign state reads as. */
export function emptyState(): WindowState {
  return { groups: {} };
}

/** A total as the state carries it through JSON: a finite number, or the name of a non-finite one. */
type StateNumber = number | "Infinity" | "-Infinity" | "NaN";

const toState = (n: number): StateNumber => (Number.isFinite(n) ? n : (String(n) as StateNumber));

/**
 * A total read from the state. `null` is what an older version's state holds for an overflowed total
 * (JSON.stringify writes Infinity as null): it stays an overflow (NaN) instead of restarting from 0.
 */
function fromState(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  if (v === "NaN" || v === null) return NaN;
  return undefined;
}

/**
 * The state to hand back to Lambda: JSON-safe (non-finite totals as strings); group keys are not repeated
 * (they are the groups' ids), which keeps the state small (Lambda ends a window early past 1 MB).
 */
export function writeState(state: WindowState): Record<string, unknown> {
  const groups: Record<string, unknown> = {};
  for (const [id, g] of Object.entries(state.groups)) {
    const totals = Object.fromEntries(TOTALS.map((t) => [t, Object.fromEntries(Object.entries(g[t]).map(([f, n]) => [f, toState(n)]))]));
    groups[id] = { count: g.count, ...totals };
  }
  return { groups };
}

/** Reads the `state` Lambda passed in; anything else (first invocation of a window: `{}`) is empty. */
export function readState(state: unknown, spec: AggregateSpec): WindowState {
  const out = emptyState();
  if (!state || typeof state !== "object" || !("groups" in state)) return out;
  const groups = (state as { groups: unknown }).groups;
  if (!groups || typeof groups !== "object" || Array.isArray(groups)) return out;
  for (const [id, raw] of Object.entries(groups as Record<string, Record<string, unknown>>)) {
    const g: GroupTotals = { key: keyFromId(id, spec), count: typeof raw?.count === "number" ? raw.count : 0, sum: {}, min: {}, max: {} };
    for (const t of TOTALS) {
      const fields = raw?.[t];
      if (!fields || typeof fields !== "object") continue;
      for (const [f, v] of Object.entries(fields)) {
        const n = fromState(v);
        if (n !== undefined) g[t][f] = n;
      }
    }
    out.groups[id] = g;
  }
  return out;
}

/** The group key of a record: its `groupBy` fields, a missing one as null. */
export function groupKey(record: JsonObject, spec: AggregateSpec): JsonObject {
  const key: JsonObject = {};
  for (const field of spec.groupBy) key[field] = Object.prototype.hasOwnProperty.call(record, field) ? canonicalValue(record[field]) : null;
  return key;
}

const groupId = (key: JsonObject, spec: AggregateSpec): string => stringifyLossless(spec.groupBy.map((f) => key[f]));

/** The group key an id stands for (ids are the key's values in `groupBy` order, as JSON). */
function keyFromId(id: string, spec: AggregateSpec): JsonObject {
  let values: RecordValue = [];
  try {
    values = parseLossless(id);
  } catch {
    // not an id this code wrote: the key reads as nulls, the totals still count
  }
  const key: JsonObject = {};
  spec.groupBy.forEach((f, i) => (key[f] = Array.isArray(values) && i < values.length ? canonicalValue(values[i]) : null));
  return key;
}

/**
 * Folds one record into the state (mutates and returns it). A sum/min/max field that is missing or not
 * a number is left out of that field's totals; the record still counts.
 */
export function addRecord(state: WindowState, record: JsonObject, spec: AggregateSpec): WindowState {
  const key = groupKey(record, spec);
  const g = (state.groups[groupId(key, spec)] ??= { key, count: 0, sum: {}, min: {}, max: {} });
  g.count++;
  for (const f of spec.sum) {
    const n = toDouble(record[f]);
    if (n !== undefined) g.sum[f] = (g.sum[f] ?? 0) + n;
  }
  for (const f of spec.min) {
    const n = toDouble(record[f]);
    if (n !== undefined) g.min[f] = g.min[f] === undefined ? n : Math.min(g.min[f], n);
  }
  for (const f of spec.max) {
    const n = toDouble(record[f]);
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
 * totals the route asks for (`count` when `count: true`, `sum`/`min`/`max` when those lists are set),
 * and `"overflow":["sum.amount",…]` after them when a total overflowed. Write it with `resultText`.
 */
export function windowResults(state: WindowState, window: WindowBounds, spec: AggregateSpec): JsonObject[] {
  return Object.keys(state.groups)
    .sort()
    .map((id) => {
      const g = state.groups[id];
      const out: JsonObject = { window: { start: window.start, end: window.end }, key: g.key };
      const overflow: string[] = [];
      if (spec.count) out.count = g.count;
      for (const t of TOTALS) if (spec[t].length > 0) out[t] = pick(g[t], spec[t], t, overflow);
      if (overflow.length > 0) out.overflow = overflow;
      return out;
    });
}

/** Totals in config order; a field no record had a number for is null, an overflowed one null and listed. */
function pick(totals: Record<string, number>, fields: string[], total: Total, overflow: string[]): JsonObject {
  const out: JsonObject = {};
  for (const f of fields) {
    const n = totals[f];
    if (n !== undefined && !Number.isFinite(n)) overflow.push(`${total}.${f}`);
    out[f] = n === undefined || !Number.isFinite(n) ? null : n;
  }
  return out;
}

/** A window result's bytes: compact JSON, key values exactly as published. */
export function resultText(result: JsonObject): string {
  return stringifyLossless(result);
}

/** Partition key of a window result: the group key's values, so a key's results stay on one shard. */
export function resultPartitionKey(key: JsonObject, spec: AggregateSpec): string {
  const text = spec.groupBy.length === 0 ? "all" : groupId(key, spec);
  // Kinesis partition keys are 1-256 Unicode characters; longer keys are cut (they only pick the shard).
  return text.length <= 256 ? text : text.slice(0, 256);
}
