/** `parseLakeConfig`: validates the raw `datalake:lake` value, reports every problem at once, and applies defaults. */
import { aggregateResultSchema, DEFAULT_SCHEMA, SegmentSchema } from "../archive";
import { parseGroups } from "../groups";
import { defaultRouteName, segmentAddress } from "../naming";
import { ProcessorRouteConfig, processorRouteConfig } from "../processor/config-schema";
import { ALARM_DEFAULTS, BACKUP_DEFAULTS, CONFIG_KEY, DEFAULTS } from "./defaults";
import { configPath, type ConfigProblem, LakeConfigError } from "./problems";
import { lakeSchema, unknownKeyProblem } from "./schema";
import { asRecord, topologyProblems } from "./topology-checks";
import type { LakeConfig, LayerConfig, SegmentConfig } from "./types";

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
