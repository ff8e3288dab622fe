/** The local lake's folder (local/lake.ts): who holds it, the port it used last, and a notice about the old layout. */
import * as fs from "fs";
import * as path from "path";
import { STATE_FILE_NAME } from "../kinesis";
import { LockInfo } from "../lake-lock";

export function busyMessage(dir: string, owner: LockInfo): string {
  if (owner.holder === "npm run local-lake" && owner.endpoint) {
    const lines = owner.exports ?? [`export AWS_ENDPOINT_URL_KINESIS=${owner.endpoint}`, ...(owner.catalogFile ? [`export DATALAKE_CATALOG=${owner.catalogFile}`] : [])];
    return `the local lake in ${dir} is already running under \`npm run local-lake\` (process ${owner.pid}); use it by pasting the lines it printed: ${lines.join("; ")}`;
  }
  return `the local lake in ${dir} is in use by ${owner.holder ?? "another app"} (process ${owner.pid}); run one app at a time, or start \`npm run local-lake\` and paste the export lines it prints so several apps share it`;
}

export function readPort(file: string): number | undefined {
  try {
    const port = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
  } catch {
    return undefined;
  }
}

/** Lakes before one folder per stack kept their state in `.datalake/local/` itself: say where it is, once per start. */
export function noticeOldLayout(dataDir: string, warn: (line: string) => void): void {
  const parent = path.dirname(dataDir);
  if (fs.existsSync(path.join(parent, "kinesis", STATE_FILE_NAME)) && !fs.existsSync(path.join(dataDir, "kinesis", STATE_FILE_NAME))) {
    warn(`local lake: each stack now has its own folder (${dataDir}); the state of an earlier lake is still in ${parent} (kinesis/, s3/, firehose/): move those into ${dataDir} to keep its records, or delete them`);
  }
}
