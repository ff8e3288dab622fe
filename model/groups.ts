/**
 * Consumer groups of a segment (`…segments.<segment>.groups`): workers on many machines that share the
 * segment's shards through a DynamoDB lease table of the group's own (runtime/leases). Here: the config
 * shape, its checks and its parsed form. Pure (no Pulumi, no AWS); `model/config.ts` runs the checks with
 * the rest of the topology.
 *
 * A group is written as its name (the workers poll the stream with GetRecords) or as
 * `{ name, consumer }` (the workers read through one of the segment's registered `consumers`, enhanced
 * fan-out: 2 MiB/s per shard of their own). A consumer serves at most one group: Kinesis allows one
 * subscription per shard and consumer at a time, so two groups on one consumer would refuse each other.
 */
import { z } from "zod";
import { groupNameChecks, NAME_PATTERN, NAME_RULE } from "./naming";

/** The lease table's partition key (KCL's name: one row per shard, keyed by shard id). */
export const LEASE_KEY = "leaseKey";

/** One declared group, defaults applied. */
export interface GroupConfig {
  /** Group name: same rule as other names, unique per segment. */
  name: string;
  /** The segment's registered consumer the workers read through; undefined: they poll. @default undefined */
  consumer: string | undefined;
}

const groupObjectSchema = z.strictObject(
  {
    name: z.string({ error: "name must be a group name" }),
    consumer: z.string({ error: "consumer must name one of the segment's consumers" }).optional(),
  },
  { error: "a group must be a name or a map of name and consumer" },
);

/** `groups:` under a segment. */
export const groupsSchema = z.array(z.union([z.string(), groupObjectSchema], { error: "each group must be a name or { name, consumer }" }), {
  error: "groups must be a list of group names (or { name, consumer } maps)",
});

/** The keys a group given as a map may have (for "did you mean" hints). */
export const GROUP_KEYS = Object.keys(groupObjectSchema.shape);

/** A problem: the path below `datalake:lake`, the value given, and what is allowed. */
export type GroupProblem = [path: PropertyKey[], value: unknown, message: string];

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A group as far as it could be read from the raw config; undefined when its shape is wrong (the schema says so). */
function looseGroup(raw: unknown): { name: unknown; consumer: unknown } | undefined {
  if (typeof raw === "string") return { name: raw, consumer: undefined };
  return isRecord(raw) ? { name: raw.name, consumer: raw.consumer } : undefined;
}

/** Problems with one segment's `groups`: names, uniqueness, lengths, and the consumers they read through. */
export function segmentGroupProblems(lake: string, layer: string, segment: string, segRaw: unknown): GroupProblem[] {
  const seg = isRecord(segRaw) ? segRaw : {};
  if (!Array.isArray(seg.groups)) return [];
  const base: PropertyKey[] = ["layers", layer, "segments", segment, "groups"];
  const consumers = Array.isArray(seg.consumers) ? seg.consumers.filter((c): c is string => typeof c === "string") : [];
  const names = new Map<string, number>();
  const consumerUsers = new Map<string, number>();
  const problems: GroupProblem[] = [];
  seg.groups.forEach((raw, i) => {
    const group = looseGroup(raw);
    if (!group || typeof group.name !== "string") return; // the schema reports it
    const namePath = typeof raw === "string" ? [...base, i] : [...base, i, "name"];
    if (!NAME_PATTERN.test(group.name)) {
      problems.push([namePath, group.name, `group name must use ${NAME_RULE}`]);
    } else if (names.has(group.name)) {
      problems.push([namePath, group.name, `group "${group.name}" is already declared at groups[${names.get(group.name)}]; names must be unique per segment`]);
    } else {
      names.set(group.name, i);
      for (const check of groupNameChecks(lake, layer, segment, group.name).filter((x) => x.name.length > x.limit)) {
        problems.push([namePath, check.name, `${check.what} would be ${check.name.length} characters, over AWS's limit of ${check.limit}; shorten the group name`]);
      }
    }
    if (typeof group.consumer !== "string") return;
    const consumerPath = [...base, i, "consumer"];
    if (!consumers.includes(group.consumer)) {
      const known = consumers.length > 0 ? consumers.join(", ") : "none";
      problems.push([consumerPath, group.consumer, `names no consumer of this segment (declared: ${known}); add it to the segment's consumers or leave consumer out to poll`]);
    } else if (consumerUsers.has(group.consumer)) {
      problems.push([
        consumerPath,
        group.consumer,
        `consumer "${group.consumer}" already serves groups[${consumerUsers.get(group.consumer)}]; Kinesis allows one subscription per shard and consumer, so give each group a consumer of its own`,
      ]);
    } else {
      consumerUsers.set(group.consumer, i);
    }
  });
  return problems;
}

/** The parsed groups of a segment (the schema has accepted `raw`). */
export function parseGroups(raw: ReadonlyArray<string | { name: string; consumer?: string }> | null | undefined): GroupConfig[] {
  return (raw ?? []).map((g) => (typeof g === "string" ? { name: g, consumer: undefined } : { name: g.name, consumer: g.consumer }));
}
