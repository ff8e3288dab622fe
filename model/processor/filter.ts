/**
 * A route's filter: an EventBridge content-filter pattern on the record's JSON, with Lambda's rule for
 * records that are not JSON. The handler applies it to every user record (model/processor/handler.ts);
 * with `filterAt: mapping` it is also the event source mapping's filter criteria (the record's fields
 * live under `data`), which the local lake matches before the handler is invoked.
 * Documentation: Lambda developer guide, "Lambda event filtering" and "Filter" (API reference).
 */
import { matchesPattern } from "../event-pattern";

/** Lambda's limit on one filter pattern's length (API `Filter.Pattern`). */
export const FILTER_PATTERN_MAX_LENGTH = 4096;

/** The event source mapping pattern for a route filter: a Kinesis record's fields live under `data`. */
export function routeFilterPattern(filter: Record<string, unknown>): string {
  return JSON.stringify({ data: filter });
}

export interface FilterCriteria {
  filters: { pattern: string }[];
}

/**
 * The mapping's `filterCriteria`; undefined (every record goes to the function) when the route has none.
 * @throws Error when the pattern is longer than Lambda accepts (the config check reports it first).
 */
export function routeFilterCriteria(filter: Record<string, unknown> | undefined): FilterCriteria | undefined {
  if (filter === undefined) return undefined;
  const pattern = routeFilterPattern(filter);
  if (pattern.length > FILTER_PATTERN_MAX_LENGTH) {
    throw new Error(`route filter is ${pattern.length} characters as a filter pattern, over Lambda's limit of ${FILTER_PATTERN_MAX_LENGTH}`);
  }
  return { filters: [{ pattern }] };
}

/**
 * Would Lambda hand this record to the function? No filter: always. With a filter on `data`, a record
 * whose data is not valid JSON is dropped (never invoked, never retried), as Lambda does.
 */
export function recordPassesFilter(filter: Record<string, unknown> | undefined, data: Uint8Array): boolean {
  if (filter === undefined) return true;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch {
    return false;
  }
  return matchesPattern(filter, value);
}
