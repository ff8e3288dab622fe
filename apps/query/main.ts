/**
 * `npm run -s query -- --stack dev "SELECT count(*) FROM ingest.persons"`: SQL over the local lake's
 * archive with DuckDB, under the same table names (`<layer>.<segment>`, and the Glue names
 * `<lake>_<layer>.<segment>`) and partition columns (year, month, day, hour) as the Athena tables.
 * Rows go to stdout as JSON lines; everything else to stderr.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { Command, Option } from "commander";
import * as path from "path";
import { parseCommand } from "../lib/cli";
import { EXIT, runMain, UserError } from "../../runtime/errors";
import { loadStackTopology, localStackName } from "../../runtime/topology";
import { localArchiveRoot } from "../replay/archive-source";
import { malformedCountSelect, viewStatements } from "./views";

interface QueryFlags {
  stack?: string;
  archiveDir?: string;
}

export function buildProgram(): Command {
  return new Command("query")
    .description("Run SQL over the local lake's archive (DuckDB), with the tables and partitions of the Athena tables.")
    .argument("<sql>", 'the query, e.g. "SELECT count(*) FROM ingest.persons"')
    .addOption(new Option("--stack <name>", "stack whose topology names the tables (env DATALAKE_STACK)"))
    .addOption(new Option("--archive-dir <dir>", "folder holding one folder per bucket (default: the local lake's, env DATALAKE_ARCHIVE_DIR)"))
    .exitOverride();
}

/** JSON for a DuckDB value: BIGINTs as numbers when exact, else strings; dates as ISO text. */
function toJson(value: unknown): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof (value as { toString?: unknown }).toString === "function" && value.constructor?.name?.startsWith("DuckDB")) {
    return String(value);
  }
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toJson(v)]));
}

/** Writes a line to stdout, waiting while the reader is behind (rows are streamed, not held). */
function writeOut(line: string): Promise<void> | undefined {
  if (process.stdout.write(line)) return undefined;
  return new Promise((resolve) => process.stdout.once("drain", () => resolve()));
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const done = parseCommand(program, argv);
  if (done !== undefined) return done;
  const flags = program.opts<QueryFlags>();
  const sql = program.args[0];
  const stack = flags.stack ?? localStackName();
  const config = loadStackTopology(stack);
  const dir = flags.archiveDir ?? process.env.DATALAKE_ARCHIVE_DIR;
  const root = dir ? path.resolve(dir) : localArchiveRoot();
  const { sql: setup, views } = viewStatements(config, root, sql);
  const tables = views.map((v) => v.name).join(", ");
  process.stderr.write(
    `query: Pulumi.${stack}.yaml over ${path.relative(process.cwd(), root) || "."}: ${views.map((v) => `${v.name} (${v.objects} objects)`).join(", ")}\n`,
  );

  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    for (const statement of setup) await connection.run(statement);
    let rows = 0;
    try {
      // Streamed chunk by chunk: a large result is never held whole.
      const result = await connection.stream(sql);
      for await (const chunk of result.yieldRowObjects()) {
        rows += chunk.length;
        await writeOut(chunk.map((row) => `${JSON.stringify(toJson(row))}\n`).join(""));
      }
    } catch (err) {
      const first = (err as Error).message.split("\n")[0];
      const hint = /Catalog Error/.test(first) ? `; the tables are ${tables} (and the same under their Glue database names)` : "";
      throw new UserError(`the query failed: ${first}${hint}`);
    }
    process.stderr.write(`query: ${rows} rows\n`);
    // Lines that are not JSON objects read as rows of NULLs, as on Athena: say how many the tables named hold.
    for (const view of views) {
      if (view.sources.length === 0) continue;
      const counted = await connection.runAndReadAll(malformedCountSelect(view.sources));
      const malformed = Number(counted.getRowObjects()[0]?.malformed ?? 0);
      if (malformed > 0) {
        process.stderr.write(
          `query: ${view.name}: ${malformed} line(s) of its archive are not JSON objects and read as rows of NULLs (as Athena's OpenX JSON SerDe with ignore.malformed.json)\n`,
        );
      }
    }
    return EXIT.ok;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

if (require.main === module) runMain(() => main(process.argv));
