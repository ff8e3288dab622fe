/**
 * The archive a segment's wire-tap writes: how its object keys are laid out and parsed, which objects a
 * time window selects, the record delimiter, and the Glue/Athena table that reads it (names, columns and
 * the partition-projection properties). Pure: shared by the Glue table component, the replay app, the
 * local query app and the local wire-tap.
 */
import { COMPRESSION_EXTENSION, WIRE_TAP_LAYOUT } from "./naming";

/**
 * Appended to every record by the wire-tap (Firehose's `AppendDelimiterToRecord` processor, whose default
 * delimiter is a new line), so every archived record is one line whoever the producer is. It is appended
 * unconditionally, as the processor's name says: a record that already ends in "\n" is archived followed
 * by an empty line, which every reader here skips.
 */
export const RECORD_DELIMITER = "\n";

/** The Firehose processor that appends `RECORD_DELIMITER` to every record before delivery to S3. */
export const WIRE_TAP_DELIMITER_PROCESSOR = "AppendDelimiterToRecord";

/** Scalar archive column types a segment's `schema` may use (Glue/Athena type names). */
export const COLUMN_TYPES = ["string", "int", "bigint", "double", "boolean"] as const;
export type ScalarColumnType = (typeof COLUMN_TYPES)[number];
/**
 * A column type: a scalar, or a struct of scalars for a nested JSON object, written as Glue writes it:
 * `struct<start:string,end:string>` (field names as column names).
 */
export type ColumnType = ScalarColumnType | `struct<${string}>`;

/** A segment's schema: JSON field name → column type, in column order. */
export type SegmentSchema = Record<string, ColumnType>;

const STRUCT_TYPE = /^struct<(.*)>$/;

/** The fields of a `struct<…>` column type, or undefined when the type is not a well-formed struct of scalars. */
export function structFields(type: string): [string, ScalarColumnType][] | undefined {
  const m = STRUCT_TYPE.exec(type);
  if (!m) return undefined;
  const fields = m[1].split(",").map((f) => f.split(":"));
  if (fields.some((f) => f.length !== 2 || !COLUMN_NAME_PATTERN.test(f[0]) || !(COLUMN_TYPES as readonly string[]).includes(f[1]))) return undefined;
  if (new Set(fields.map((f) => f[0])).size !== fields.length) return undefined;
  return fields as [string, ScalarColumnType][];
}

/** A `struct<…>` column type of the given fields, in order. */
export function structType(fields: [string, ScalarColumnType][]): ColumnType {
  return `struct<${fields.map(([name, type]) => `${name}:${type}`).join(",")}>`;
}

/** The demo record `{"id":"…","name":"dennis 1","age":1}`: the schema of a segment that sets none. */
export const DEFAULT_SCHEMA: SegmentSchema = { id: "string", name: "string", age: "int" };

/** Column names: what Athena accepts without quoting (lowercase letters, digits, `_`, starting with a letter or `_`). */
export const COLUMN_NAME_PATTERN = /^[a-z_][a-z0-9_]*$/;

/** Partition columns of every archive table, in the order of the object key layout. */
export const PARTITION_COLUMNS = ["year", "month", "day", "hour"] as const;

/** DuckDB type of each archive column type, for the local query engine. */
export const DUCKDB_TYPES: Record<ScalarColumnType, string> = {
  string: "VARCHAR",
  int: "INTEGER",
  bigint: "BIGINT",
  double: "DOUBLE",
  boolean: "BOOLEAN",
};

/** DuckDB type of an archive column type: `struct<a:string>` → `STRUCT("a" VARCHAR)`. */
export function duckdbType(type: ColumnType): string {
  const fields = structFields(type);
  if (fields) return `STRUCT(${fields.map(([name, t]) => `"${name}" ${DUCKDB_TYPES[t]}`).join(", ")})`;
  return DUCKDB_TYPES[type as ScalarColumnType];
}

/**
 * The records an aggregating route writes (model/processor/aggregate.ts `windowResults`):
 * `{"window":{"start","end"},"key":{<groupBy>},"count":n,"sum":{…},"min":{…},"max":{…}}`, each total only
 * when the route asks for it. Group-key values are read as strings (a number reads as its text); totals
 * as doubles; the count as a bigint. Several aggregating routes into one segment: the union of their fields.
 */
export function aggregateResultSchema(specs: { groupBy: string[]; count: boolean; sum: string[]; min: string[]; max: string[] }[]): SegmentSchema {
  const union = (pick: (s: (typeof specs)[number]) => string[]) => [...new Set(specs.flatMap(pick))];
  const schema: SegmentSchema = { window: structType([["start", "string"], ["end", "string"]]) };
  const key = union((s) => s.groupBy);
  if (key.length > 0) schema.key = structType(key.map((f) => [f, "string"]));
  if (specs.some((s) => s.count)) schema.count = "bigint";
  for (const total of ["sum", "min", "max"] as const) {
    const fields = union((s) => s[total]);
    if (fields.length > 0) schema[total] = structType(fields.map((f) => [f, "double"]));
  }
  return schema;
}

/** Glue/Athena identifiers allow letters, digits and `_` only: `datalake-dev` → `datalake_dev`. */
export function glueIdentifier(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, "_");
}

/** Glue database of a layer (unique per account and region, so it carries the lake's name). */
export function archiveDatabaseName(lake: string, layer: string): string {
  return glueIdentifier(`${lake}_${layer}`);
}

/** Glue table of a segment, inside its layer's database. */
export function archiveTableName(segment: string): string {
  return glueIdentifier(segment);
}

/** The lake's Athena workgroup. */
export function workgroupName(lake: string): string {
  return `${lake}-archive`;
}

/**
 * The lake's Athena query results bucket (S3 names are global, so it ends in the account id). `-qr-` keeps
 * it shorter than every segment bucket name (`<lake>-<layer>-<segment>-<account>` with one-letter names is
 * one character longer), so the config's segment bucket checks already keep it within S3's 63.
 */
export function queryResultsBucketName(lake: string, accountId: string): string {
  return `${lake}-qr-${accountId}`;
}

// ---------------------------------------------------------------------------------------------------
// Object keys
// ---------------------------------------------------------------------------------------------------

/** Folder of every delivered object in a segment's bucket (the part of the prefix before any expression). */
export const ARCHIVE_DATA_PREFIX = WIRE_TAP_LAYOUT.prefix.slice(0, WIRE_TAP_LAYOUT.prefix.lastIndexOf("/", WIRE_TAP_LAYOUT.prefix.indexOf("!{")) + 1);

/** Compression of an object, from its file extension (what Firehose appends for each format). */
export type ObjectCompression = "GZIP" | "UNCOMPRESSED" | "UNSUPPORTED";

/** What an archive object key says about the object. */
export interface ArchiveObject {
  key: string;
  /** Time in the object's name (UTC, to the second): when Firehose wrote the object. */
  time: Date;
  /** Hour of the key's `year=/month=/day=/hour=` prefix (UTC): the arrival hour of its oldest record. */
  hour: Date;
  compression: ObjectCompression;
}

const KEY_PATTERN =
  /^data\/year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/hour=(\d{2})\/(.+)-\d+-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[^/]+$/;

function utc(y: string, mo: string, d: string, h: string, mi = "0", s = "0"): Date | undefined {
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  // Reject 2026-02-31 and 25:00, which Date.UTC would roll over.
  if (
    date.getUTCFullYear() !== Number(y) ||
    date.getUTCMonth() !== Number(mo) - 1 ||
    date.getUTCDate() !== Number(d) ||
    date.getUTCHours() !== Number(h) ||
    date.getUTCMinutes() !== Number(mi) ||
    date.getUTCSeconds() !== Number(s)
  ) {
    return undefined;
  }
  return date;
}

function compressionOf(key: string): ObjectCompression {
  if (key.endsWith(COMPRESSION_EXTENSION.GZIP)) return "GZIP";
  const base = key.slice(key.lastIndexOf("/") + 1);
  // Firehose adds no extension to uncompressed objects; a name ending in .zip or .snappy is one we cannot read.
  if (/\.(zip|snappy)$/.test(base)) return "UNSUPPORTED";
  return "UNCOMPRESSED";
}

/**
 * Parses a key Firehose (or the local wire-tap) wrote under the data prefix:
 * `data/year=YYYY/month=MM/day=DD/hour=HH/<stream>-<version>-YYYY-MM-DD-HH-mm-ss-<uuid><ext>`.
 * Undefined for anything else (error output, a `.partial` file, a foreign object).
 */
export function parseArchiveKey(key: string): ArchiveObject | undefined {
  if (key.endsWith(".partial")) return undefined;
  const m = KEY_PATTERN.exec(key);
  if (!m) return undefined;
  const hour = utc(m[1], m[2], m[3], m[4]);
  const time = utc(m[6], m[7], m[8], m[9], m[10], m[11]);
  if (!hour || !time) return undefined;
  return { key, time, hour, compression: compressionOf(key) };
}

const HOUR_MS = 3_600_000;

/** `data/year=2026/month=11/day=26/hour=09/`: the key prefix of one UTC hour. */
export function hourPrefix(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${ARCHIVE_DATA_PREFIX}year=${at.getUTCFullYear()}/month=${pad(at.getUTCMonth() + 1)}/day=${pad(at.getUTCDate())}/hour=${pad(at.getUTCHours())}/`;
}

/**
 * Hour prefixes to list for the window [from, to): every hour the window touches, plus the hour before
 * (an object's prefix carries its oldest record's hour, which can precede the time in its name).
 */
export function windowHourPrefixes(from: Date, to: Date): string[] {
  const out: string[] = [];
  const start = Math.floor(from.getTime() / HOUR_MS) * HOUR_MS - HOUR_MS;
  for (let t = start; t < to.getTime(); t += HOUR_MS) out.push(hourPrefix(new Date(t)));
  return out;
}

/**
 * The objects of the window [from, to) — `from` inclusive, `to` exclusive — by the time in their name,
 * in time order (then by key, so equal times have a stable order that a checkpoint can rely on).
 */
export function selectWindow(keys: Iterable<string>, from: Date, to: Date): ArchiveObject[] {
  const out: ArchiveObject[] = [];
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) continue;
    seen.add(key);
    const object = parseArchiveKey(key);
    if (object && object.time.getTime() >= from.getTime() && object.time.getTime() < to.getTime()) out.push(object);
  }
  return out.sort((a, b) => a.time.getTime() - b.time.getTime() || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * The records of an object's (decompressed) text: one per line, the delimiter removed, empty lines
 * skipped (a record that already ended in a new line leaves one behind it).
 */
export function splitRecords(text: string): string[] {
  return text.split(RECORD_DELIMITER).filter((line) => line.length > 0);
}

// ---------------------------------------------------------------------------------------------------
// Glue table and partition projection
// ---------------------------------------------------------------------------------------------------

/** Firehose's timestamp expressions and the partition column each one fills. */
const TIMESTAMP_COLUMNS: Record<string, (typeof PARTITION_COLUMNS)[number]> = {
  "!{timestamp:yyyy}": "year",
  "!{timestamp:MM}": "month",
  "!{timestamp:dd}": "day",
  "!{timestamp:HH}": "hour",
};

/**
 * Athena's `storage.location.template` for a bucket, derived from the wire-tap's Firehose prefix by
 * turning each `!{timestamp:…}` expression into its partition column's `${column}` placeholder, so the
 * table reads exactly where Firehose writes.
 */
export function projectionLocationTemplate(bucketName: string, prefix: string = WIRE_TAP_LAYOUT.prefix): string {
  let template = prefix;
  for (const [expression, column] of Object.entries(TIMESTAMP_COLUMNS)) template = template.split(expression).join(`\${${column}}`);
  if (template.includes("!{")) throw new Error(`the wire-tap prefix ${prefix} has an expression partition projection cannot map`);
  return `s3://${bucketName}/${template}`;
}

/**
 * Years partition projection covers. An integer range is fixed (only `date` projection knows `NOW`);
 * hours outside it are simply not read, so the range is generous rather than tight.
 */
export const PROJECTION_FIRST_YEAR = 2024;
export const PROJECTION_LAST_YEAR = 2099;

/**
 * Table properties that turn on partition projection over the hourly layout: integer year/month/day/hour
 * (month, day and hour zero-padded to two digits, as Firehose's `MM`, `dd`, `HH` write them), and the
 * location template. Athena then finds new hours with no crawler and no `MSCK REPAIR TABLE`.
 */
export function projectionParameters(bucketName: string): Record<string, string> {
  return {
    "projection.enabled": "true",
    "projection.year.type": "integer",
    "projection.year.range": `${PROJECTION_FIRST_YEAR},${PROJECTION_LAST_YEAR}`,
    "projection.month.type": "integer",
    "projection.month.range": "1,12",
    "projection.month.digits": "2",
    "projection.day.type": "integer",
    "projection.day.range": "1,31",
    "projection.day.digits": "2",
    "projection.hour.type": "integer",
    "projection.hour.range": "0,23",
    "projection.hour.digits": "2",
    "storage.location.template": projectionLocationTemplate(bucketName),
  };
}

/** The OpenX JSON SerDe: one JSON object per line; `ignore.malformed.json` keeps a bad line from failing a query. */
export const OPENX_JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe";
/** Input format of text objects (GZIP is recognised by the `.gz` extension). */
export const TEXT_INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat";
export const TEXT_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";

/** Glue columns of a segment's schema, in order. */
export function tableColumns(schema: SegmentSchema): { name: string; type: ColumnType }[] {
  return Object.entries(schema).map(([name, type]) => ({ name, type }));
}

/** Problems with a schema, as [field, message] pairs; empty when it is usable. */
export function schemaProblems(schema: Record<string, unknown>): [string, string][] {
  const problems: [string, string][] = [];
  const entries = Object.entries(schema);
  if (entries.length === 0) problems.push(["", "a schema needs at least one column"]);
  for (const [name, type] of entries) {
    if (!COLUMN_NAME_PATTERN.test(name)) {
      problems.push([name, 'column names use lowercase letters, digits and "_", starting with a letter or "_"']);
    }
    if ((PARTITION_COLUMNS as readonly string[]).includes(name)) {
      problems.push([name, `"${name}" is a partition column of every archive table; rename the field`]);
    }
    if (!(COLUMN_TYPES as readonly unknown[]).includes(type) && !(typeof type === "string" && structFields(type))) {
      problems.push([
        name,
        `column type must be one of ${COLUMN_TYPES.join(", ")}, or struct<field:type,…> of those for a nested object (field names as column names)`,
      ]);
    }
  }
  return problems;
}

/**
 * Problems with an aggregating route whose target derives its schema from it (`aggregateResultSchema`):
 * each `groupBy`/`sum`/`min`/`max` field becomes a struct field of the target's table, so it must be a
 * valid column name. As `[path below the route, value, message]`.
 */
export function aggregateFieldProblems(aggregate: Record<string, unknown>, target: string): [PropertyKey[], unknown, string][] {
  const problems: [PropertyKey[], unknown, string][] = [];
  for (const list of ["groupBy", "sum", "min", "max"] as const) {
    const fields = aggregate[list];
    if (!Array.isArray(fields)) continue; // the schema reports it
    fields.forEach((field, i) => {
      if (typeof field === "string" && field !== "" && !COLUMN_NAME_PATTERN.test(field)) {
        problems.push([
          ["aggregate", list, i],
          field,
          `becomes a field of ${target}'s archive table, whose field names use lowercase letters, digits and "_", starting with a letter or "_"; aggregate a field named that way, or give ${target} a schema`,
        ]);
      }
    });
  }
  return problems;
}
