/**
 * How a route's config turns into EventBridge Pipes settings (pure, so it is tested without mocks).
 *
 * A Kinesis source hands Pipes one event per record:
 *   { "kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data": "<base64>", "approximateArrivalTimestamp", ... }
 * For filtering and input templates Pipes decodes `data` and, when it is JSON, parses it ("implicit body
 * data parsing"), so a pattern on the record's own fields goes under `data`, and `<$.data>` is the
 * original record. See the EventBridge user guide, "Event filtering in Amazon EventBridge Pipes" and
 * "Amazon EventBridge Pipes input transformation".
 */

/** Pipes' limit on one filter pattern's length. */
export const PIPE_PATTERN_MAX_LENGTH = 4096;

/**
 * Where a route starts reading its source stream. TRIM_HORIZON (oldest retained record) rather than
 * LATEST: the pipe is created after its source stream, and with LATEST every record published between
 * the two (or while a replaced pipe is recreated) would never reach the target. The price is that a new
 * or replaced pipe re-sends what the source still retains (24 h by default): routes deliver at least
 * once, so subscribers must tolerate duplicates, as they must with Kinesis anyway.
 */
export const ROUTE_STARTING_POSITION = "TRIM_HORIZON";

/**
 * Target settings that make the target stream receive the source record unchanged in meaning:
 * the record's JSON (`<$.data>`, not the Pipes envelope with base64 data) under its original partition
 * key (`$.partitionKey`), which keeps per-key ordering and shard spread across the route.
 */
export const ROUTE_TARGET = {
  partitionKey: "$.partitionKey",
  inputTemplate: "<$.data>",
} as const;

/** The Pipes pattern for a route filter: the record's fields live under `data`. */
export function routeFilterPattern(filter: Record<string, unknown>): string {
  return JSON.stringify({ data: filter });
}

export interface PipeFilterCriteria {
  filters: { pattern: string }[];
}

/**
 * `sourceParameters.filterCriteria` for a route; undefined (forward every record) when it has no filter.
 * @throws Error when the pattern is longer than Pipes accepts.
 */
export function routeFilterCriteria(filter: Record<string, unknown> | undefined): PipeFilterCriteria | undefined {
  if (filter === undefined) return undefined;
  const pattern = routeFilterPattern(filter);
  if (pattern.length > PIPE_PATTERN_MAX_LENGTH) {
    throw new Error(
      `route filter is ${pattern.length} characters as a Pipes pattern, over the limit of ${PIPE_PATTERN_MAX_LENGTH}`,
    );
  }
  return { filters: [{ pattern }] };
}
