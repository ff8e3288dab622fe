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
import { LOCAL_ACCOUNT } from "../lib/catalog";

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteString = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** Archive objects of a bucket folder that a reader may use (complete objects in GZIP or plain JSON lines). */
export function archiveFiles(bucketDir: string): string[] {
  const files: string[] = [];
  const walk = (dir: string, keyPrefix: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const key = `${keyPrefix}${entry.name}`;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), `${key}/`);
      else if (parseArchiveKey(key)?.compression === "GZIP" || parseArchiveKey(key)?.compression === "UNCOMPRESSED") {
        files.push(path.join(dir, entry.name));
      }
    }
  };
  walk(path.join(bucketDir, "data"), "data/");
  return files.sort();
}

export interface SegmentView {
  /** `ingest.persons`, as local SQL names it. */
  name: string;
  /** `datalake_dev_ingest.persons`, as Athena SQL names it (also defined locally). */
  glueName: string;
  files: number;
}

/** The view's SELECT: the schema's columns, then the partition columns, over the given files. */
export function viewSelect(schema: SegmentSchema, files: string[]): string {
  const columns = Object.entries(schema);
  const partitions = PARTITION_COLUMNS.map((c) => `${quoteIdent(c)}`);
  if (files.length === 0) {
    const typed = columns.map(([name, type]) => `CAST(NULL AS ${duckdbType(type)}) AS ${quoteIdent(name)}`);
    const parts = PARTITION_COLUMNS.map((c) => `CAST(NULL AS INTEGER) AS ${quoteIdent(c)}`);
    return `SELECT ${[...typed, ...parts].join(", ")} WHERE false`;
  }
  const columnTypes = columns.map(([name, type]) => `${quoteString(name)}: ${quoteString(duckdbType(type))}`).join(", ");
  const hiveTypes = PARTITION_COLUMNS.map((c) => `${quoteString(c)}: 'INTEGER'`).join(", ");
  const list = `[${files.map(quoteString).join(", ")}]`;
  return (
    `SELECT ${[...columns.map(([name]) => quoteIdent(name)), ...partitions].join(", ")} FROM read_json(${list}, ` +
    `format = 'newline_delimited', columns = {${columnTypes}}, hive_partitioning = true, hive_types = {${hiveTypes}})`
  );
}

/** SQL statements that define every segment's view, and what they define. */
export function viewStatements(config: LakeConfig, archiveRoot: string): { sql: string[]; views: SegmentView[] } {
  const sql: string[] = [];
  const views: SegmentView[] = [];
  const schemas = new Set<string>();
  for (const segment of config.segments) {
    const bucket = segmentNames(config.name, segment.layer, segment.name, LOCAL_ACCOUNT.accountId).bucketName;
    const files = archiveFiles(path.join(archiveRoot, bucket));
    const select = viewSelect(segment.schema, files);
    const table = archiveTableName(segment.name);
    for (const schema of [segment.layer, archiveDatabaseName(config.name, segment.layer)]) {
      if (!schemas.has(schema)) sql.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      schemas.add(schema);
      sql.push(`CREATE OR REPLACE VIEW ${quoteIdent(schema)}.${quoteIdent(table)} AS ${select}`);
    }
    views.push({ name: `${segment.layer}.${table}`, glueName: `${archiveDatabaseName(config.name, segment.layer)}.${table}`, files: files.length });
  }
  return { sql, views };
}
