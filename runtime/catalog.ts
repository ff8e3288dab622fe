/**
 * The lake's catalog (stack output `catalog`): segment address -> stream, bucket and policy names.
 * Read from a file (`pulumi stack output catalog --json > catalog.json`), from the Pulumi CLI, or built
 * from a topology for the local lake.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import type { Catalog as LakeCatalog, CatalogEntry as LakeCatalogEntry, GroupEntry } from "../model/catalog";
import { LakeConfig } from "../model/config";
import { consumerNames, groupNames, replicaNames, segmentNames } from "../model/naming";
import { archiveDatabaseName, archiveTableName } from "../model/archive";
import { UserError } from "./errors";

export const catalogEntrySchema = z.looseObject({
  streamName: z.string().min(1),
  streamArn: z.string().optional(),
  deliveryStreamName: z.string().optional(),
  bucketName: z.string().optional(),
  producerPolicyArn: z.string().optional(),
  consumerPolicyArn: z.string().optional(),
  kmsKeyArn: z.string().optional(),
  readerPolicyArn: z.string().optional(),
  tableName: z.string().optional(),
  region: z.string().optional(),
  localArchiveDir: z.string().optional(),
  backup: z
    .looseObject({ bucketName: z.string().min(1), region: z.string().min(1), kmsKeyArn: z.string(), localArchiveDir: z.string().optional() })
    .optional(),
});
/** A catalog entry as read from a file: the stack output's fields, of which only `streamName` is required. */
export type CatalogEntry = Partial<LakeCatalogEntry> & Pick<LakeCatalogEntry, "streamName">;
export type Catalog = Record<string, CatalogEntry>;

const catalogSchema = z.record(z.string(), catalogEntrySchema);

export const CATALOG_HINT =
  "get it with `pulumi stack output catalog --json > catalog.json` and pass --catalog catalog.json (or set DATALAKE_CATALOG)";

/** Parses catalog JSON: the `catalog` output itself, or the whole `pulumi stack output --json` object. */
export function parseCatalog(text: string, source: string): Catalog {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UserError(`catalog ${source} is not JSON; ${CATALOG_HINT}`);
  }
  if (value && typeof value === "object" && "catalog" in value) value = (value as { catalog: unknown }).catalog;
  const parsed = catalogSchema.safeParse(value);
  if (!parsed.success || Object.keys(parsed.data).length === 0) {
    const first = parsed.success ? "it lists no segments" : `${parsed.error.issues[0].path.join(".")}: ${parsed.error.issues[0].message}`;
    throw new UserError(`catalog ${source} is not a data lake catalog (${first}); ${CATALOG_HINT}`);
  }
  return parsed.data;
}

export function readCatalogFile(file: string): Catalog {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    // A local lake's catalog (`.datalake/local/<stack>/catalog.json`): the fix is to start that lake.
    if (/[\\/]\.datalake[\\/]local[\\/]/.test(path.resolve(file))) {
      throw new UserError(`catalog file ${file} cannot be read: the local lake that writes it has not run in that folder; start it with \`npm run local-lake\` and paste the lines it prints`);
    }
    throw new UserError(`catalog file ${file} cannot be read; ${CATALOG_HINT}`);
  }
  return parseCatalog(text, file);
}

/** The catalog of the current Pulumi stack, when the Pulumi CLI is installed and logged in; else undefined. */
export function catalogFromPulumi(): Catalog | undefined {
  try {
    const out = execFileSync("pulumi", ["stack", "output", "catalog", "--json"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 60_000,
    });
    return parseCatalog(out, "from `pulumi stack output catalog --json`");
  } catch {
    return undefined;
  }
}

/** Looks a segment up, or explains which segments exist. */
export function lookupSegment(catalog: Catalog, address: string, source: string): CatalogEntry {
  const entry = catalog[address];
  if (!entry) {
    const known = Object.keys(catalog).sort().join(", ");
    throw new UserError(`unknown segment "${address}" in ${source}; known segments: ${known}`);
  }
  return entry;
}

/** Region of a catalog entry: its own `region`, else the one in its stream ARN. */
export function entryRegion(entry: CatalogEntry): string | undefined {
  return entry.region ?? entry.streamArn?.split(":")[3] ?? undefined;
}

/** Account id and region the local lake pretends to be (kinesis-local's defaults). */
export const LOCAL_ACCOUNT = { accountId: "000000000000", region: "us-east-1" };

/**
 * The catalog the deployed lake would output (same entry type as the stack output), for the local lake
 * built from the same topology.
 */
export function catalogFromConfig(config: LakeConfig, account = LOCAL_ACCOUNT): LakeCatalog {
  const catalog: LakeCatalog = {};
  for (const segment of config.segments) {
    const n = segmentNames(config.name, segment.layer, segment.name, account.accountId);
    const arn = (service: string, resource: string) => `arn:aws:${service}:${account.region}:${account.accountId}:${resource}`;
    catalog[segment.address] = {
      address: segment.address,
      layer: segment.layer,
      segment: segment.name,
      streamName: n.streamName,
      streamArn: arn("kinesis", `stream/${n.streamName}`),
      deliveryStreamName: n.deliveryStreamName,
      bucketName: n.bucketName,
      producerPolicyArn: `arn:aws:iam::${account.accountId}:policy/${n.producerPolicyName}`,
      consumerPolicyArn: `arn:aws:iam::${account.accountId}:policy/${n.consumerPolicyName}`,
      kmsKeyArn: arn("kms", `alias/${config.name}/${segment.layer}`),
      readerPolicyArn: `arn:aws:iam::${account.accountId}:policy/${config.name}-${segment.layer}-${segment.name}-reader`,
      tableName: `${archiveDatabaseName(config.name, segment.layer)}.${archiveTableName(segment.name)}`,
      region: account.region,
      // Declared fan-out consumers: locally their ARN is known only once registered on the emulator.
      ...((segment.consumers ?? []).length > 0
        ? {
            consumers: Object.fromEntries(
              segment.consumers.map((c) => {
                const cn = consumerNames(config.name, segment.layer, segment.name, c);
                return [c, { consumerName: cn.consumerName, policyArn: `arn:aws:iam::${account.accountId}:policy/${cn.policyName}` }];
              }),
            ),
          }
        : {}),
      // Consumer groups: the table the local lake's DynamoDB stand-in holds (it adds its endpoint).
      ...((segment.groups ?? []).length > 0
        ? {
            groups: Object.fromEntries(
              segment.groups.map((g) => {
                const gn = groupNames(config.name, segment.layer, segment.name, g.name);
                const entry: GroupEntry = {
                  tableName: gn.tableName,
                  tableArn: arn("dynamodb", `table/${gn.tableName}`),
                  policyArn: `arn:aws:iam::${account.accountId}:policy/${gn.policyName}`,
                  ...(g.consumer ? { consumerName: g.consumer } : {}),
                };
                return [g.name, entry];
              }),
            ),
          }
        : {}),
      ...(segment.share && segment.share.producers.length + segment.share.consumers.length > 0
        ? { sharedWith: { producers: [...segment.share.producers], consumers: [...segment.share.consumers] } }
        : {}),
      // The segment's replica in the backup region, under the name and key alias the deployed lake gives it.
      ...(config.backup && segment.backup
        ? {
            backup: {
              bucketName: replicaNames(config.name, segment.layer, segment.name, account.accountId).bucketName,
              region: config.backup.region,
              kmsKeyArn: `arn:aws:kms:${config.backup.region}:${account.accountId}:alias/${config.name}/backup/${segment.layer}`,
            },
          }
        : {}),
    };
  }
  return catalog;
}
