/** The checks that need the whole topology: names, lengths, patterns, backup region, routes and their loops. */
import { aggregateFieldProblems, schemaProblems } from "../archive";
import { patternMatcherProblems } from "../event-pattern";
import { segmentGroupProblems } from "../groups";
import { defaultRouteName, layerBackupNameChecks, layerNameChecks, NAME_PATTERN, parseAddress, replicaNameChecks, routeNameChecks, segmentAddress, segmentNameChecks, segmentNames } from "../naming";
import { processorRouteProblems } from "../processor/config-schema";
import { FILTER_PATTERN_MAX_LENGTH, routeFilterPattern } from "../processor/filter";
import { AWS_REGIONS, partitionOfRegion } from "../regions";
import { lakeSafetyProblems, LayerOutline, segmentAccessProblems } from "../safety";
import { CONFIG_KEY } from "./defaults";
import { configPath, type ConfigProblem, lengthProblems, nameProblem, suggestKey } from "./problems";

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
export const asRecord = (value: unknown): Record<string, unknown> => (isRecord(value) ? value : {});

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
export function topologyProblems(rawInput: unknown, lakeName: string, stackRegion: string | undefined): ConfigProblem[] {
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
