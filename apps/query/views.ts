/**
 * The local stand-in for the Glue tables: one DuckDB schema per layer (under the layer's name and under
 * its Glue database name) and one view per segment over the local archive, with the segment's columns
 * and the same partition columns (year, month, day, hour) read from the hive-style key layout.
 */
import * as fs from "fs";
import * as path from "path";
import { archiveDatabaseName, archiveTableName, duckdbType, parseArchiveKey, PARTITION_COLUMNS, SegmentSchema } from "../../model/archive";
import { LakeConfig } from "../../model/config";
import { segmentNames } from "../../model/naming";
import { LOCAL_ACCOUNT } from "../../runtime/catalog";

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteString = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** Characters that make a folder path a glob pattern of its own: such a folder's objects are listed one by one. */
const GLOB_CHARACTERS = /[*?[\]{}]/;

/**
 * What DuckDB reads for a bucket folder: complete archive objects only (GZIP or plain JSON lines, never a
 * `.partial` one being written), as few sources as possible. DuckDB keeps state per file named in a query
 * (~9 KB for each path written out in the SQL, ~1.4 KB for each file a glob finds), so an hour folder's
 * GZIP objects are one glob `…/hour=HH/*.gz` (which cannot match `….gz.partial`), and only plain objects,
 * or a folder that also holds other `.gz` files, are listed by name.
 */
export function archiveSources(bucketDir: string): { sources: string[]; objects: number } {
  const sources: string[] = [];
  let objects = 0;
  const names = (dir: string, pattern: RegExp): string[] => {
    try {
      return fs.readdirSync(dir).filter((n) => pattern.test(n)).sort();
    } catch {
      return [];
    }
  };
  const data = path.join(bucketDir, "data");
  for (const year of names(data, /^year=\d{4}$/))
    for (const month of names(path.join(data, year), /^month=\d{2}$/))
      for (const day of names(path.join(data, year, month), /^day=\d{2}$/))
        for (const hour of names(path.join(data, year, month, day), /^hour=\d{2}$/)) {
          const dir = path.join(data, year, month, day, hour);
          const prefix = `data/${year}/${month}/${day}/${hour}/`;
          let gzip = 0;
          let otherGz = false;
          const plain: string[] = [];
          for (const name of names(dir, /./)) {
            const compression = parseArchiveKey(`${prefix}${name}`)?.compression;
            if (compression === "GZIP") gzip++;
            else if (compression === "UNCOMPRESSED") plain.push(path.join(dir, name));
            else if (name.endsWith(".gz")) otherGz = true;
          }
          objects += gzip + plain.length;
          if (gzip > 0 && !otherGz && !GLOB_CHARACTERS.test(dir)) sources.push(path.join(dir, "*.gz"));
          else if (gzip > 0) {
            for (const name of names(dir, /\.gz$/)) if (parseArchiveKey(`${prefix}${name}`)?.compression === "GZIP") sources.push(path.join(dir, name));
          }
          sources.push(...plain);
        }
  return { sources, objects };
}

export interface SegmentView {
  /** `ingest.persons`, as local SQL names it. */
  name: string;
  /** `datalake_dev_ingest.persons`, as Athena SQL names it (also defined locally). */
  glueName: string;
  /** Archive objects of the segment, and the files and globs naming those the view reads. */
  objects: number;
  sources: string[];
}

/** Options of every read of the archive: JSON lines, and the hive-style partition columns from the key. */
const hiveOptions = () => `hive_partitioning = true, hive_types = {${PARTITION_COLUMNS.map((c) => `${quoteString(c)}: 'INTEGER'`).join(", ")}}`;

/**
 * The view's SELECT: the schema's columns, then the partition columns, over the given files or globs. A
 * line that is not a JSON object reads as a row of NULLs (partition columns still set) and a value of
 * the wrong type as NULL, as Athena's OpenX JSON SerDe does with `ignore.malformed.json` (components/table.ts).
 */
export function viewSelect(schema: SegmentSchema, sources: string[]): string {
  const columns = Object.entries(schema);
  const partitions = PARTITION_COLUMNS.map((c) => `${quoteIdent(c)}`);
  if (sources.length === 0) {
    const typed = columns.map(([name, type]) => `CAST(NULL AS ${duckdbType(type)}) AS ${quoteIdent(name)}`);
    const parts = PARTITION_COLUMNS.map((c) => `CAST(NULL AS INTEGER) AS ${quoteIdent(c)}`);
    return `SELECT ${[...typed, ...parts].join(", ")} WHERE false`;
  }
  const columnTypes = columns.map(([name, type]) => `${quoteString(name)}: ${quoteString(duckdbType(type))}`).join(", ");
  return (
    `SELECT ${[...columns.map(([name]) => quoteIdent(name)), ...partitions].join(", ")} FROM read_json([${sources.map(quoteString).join(", ")}], ` +
    `format = 'newline_delimited', columns = {${columnTypes}}, ignore_errors = true, ${hiveOptions()})`
  );
}

/** A query counting the lines of `sources` that are not JSON objects (the rows the view reads as NULLs). */
export function malformedCountSelect(sources: string[]): string {
  if (sources.length === 0) return "SELECT 0 AS malformed";
  return (
    `SELECT count(*) FILTER (WHERE json IS NULL OR json_type(json) <> 'OBJECT') AS malformed ` +
    `FROM read_ndjson_objects([${sources.map(quoteString).join(", ")}], ignore_errors = true)`
  );
}

/**
 * SQL statements that define every segment's view, and what they define. The Glue-named view selects from
 * the layer-named one, so each segment's objects are named to DuckDB once; and only a segment whose table
 * name `query` mentions reads its objects (DuckDB keeps state for every file a view names, read or not).
 * @param query the SQL to run @default every segment reads its objects
 */
export function viewStatements(config: LakeConfig, archiveRoot: string, query?: string): { sql: string[]; views: SegmentView[] } {
  const sql: string[] = [];
  const views: SegmentView[] = [];
  const schemas = new Set<string>();
  const createSchema = (schema: string) => {
    if (!schemas.has(schema)) sql.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    schemas.add(schema);
  };
  for (const segment of config.segments) {
    const bucket = segmentNames(config.name, segment.layer, segment.name, LOCAL_ACCOUNT.accountId).bucketName;
    const table = archiveTableName(segment.name);
    const { sources, objects } = archiveSources(path.join(archiveRoot, bucket));
    const named = query === undefined || query.toLowerCase().includes(table.toLowerCase());
    const glueDatabase = archiveDatabaseName(config.name, segment.layer);
    createSchema(segment.layer);
    createSchema(glueDatabase);
    sql.push(`CREATE OR REPLACE VIEW ${quoteIdent(segment.layer)}.${quoteIdent(table)} AS ${viewSelect(segment.schema, named ? sources : [])}`);
    sql.push(`CREATE OR REPLACE VIEW ${quoteIdent(glueDatabase)}.${quoteIdent(table)} AS SELECT * FROM ${quoteIdent(segment.layer)}.${quoteIdent(table)}`);
    views.push({ name: `${segment.layer}.${table}`, glueName: `${glueDatabase}.${table}`, objects, sources: named ? sources : [] });
  }
  return { sql, views };
}
