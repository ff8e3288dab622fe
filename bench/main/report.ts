/** The results being written: each line to stdout and to the results file, and the formatting helpers. */
import * as os from "os";
import { quick } from "./options";

export const lines: string[] = [];
export const say = (line = "") => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};
export const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
export const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
export const mark = (ok: boolean) => (ok ? "met" : "NOT met");

/** Load average and free CPU at the start: these machines are shared, and it shows in every figure. */
export function machine(): string {
  const cpus = os.cpus();
  return [
    `- date: ${new Date().toISOString()}`,
    `- machine: ${cpus.length} × ${cpus[0]?.model ?? "unknown CPU"}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()}`,
    `- node ${process.version}; load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(" / ")} (1/5/15 min; other work on this machine competes for the same cores)`,
    `- mode: ${quick ? "--quick" : "full"}`,
  ].join("\n");
}
