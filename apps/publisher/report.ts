/**
 * What the publisher shows a person: a progress bar (or a plain line every few seconds when stderr is
 * not a terminal), one summary block at the end, and the one-line reason when records were lost.
 */
import { terminalBar } from "../lib/terminal-bar";
import { PublishSummary } from "../../runtime/producer/publisher";

export interface Progress {
  update(sent: number): void;
  /** A log line that does not break the bar (printed above it). */
  log(line: string): void;
  stop(): void;
}

/**
 * A progress bar on a TTY; otherwise a line "published N of M records (R records/s)" every `intervalMs`.
 * While the bar is drawn, every other line must go through `log()` (apps/lib/terminal-bar.ts says why).
 * @param intervalMs @default 5000
 */
export function startProgress(total: number, stream: NodeJS.WriteStream = process.stderr, intervalMs = 5_000): Progress {
  if (stream.isTTY) {
    // Drawn from the first update on, so lines logged right after start (the run's info line) get their
    // own line instead of being glued to the bar.
    const bar = terminalBar(stream, "publishing [{bar}] {percentage}% | {value}/{total} records | {duration}s | eta {eta}s");
    return { update: (sent) => bar.update(sent, total), log: (line) => bar.log(line), stop: () => bar.stop() };
  }
  const started = Date.now();
  let sent = 0;
  const timer = setInterval(() => {
    const rate = Math.round((sent * 1000) / Math.max(1, Date.now() - started));
    stream.write(`published ${sent} of ${total} records (${rate} records/s)\n`);
  }, intervalMs);
  timer.unref();
  return {
    update: (value) => {
      sent = value;
    },
    log: (line) => stream.write(`${line}\n`),
    stop: () => clearInterval(timer),
  };
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** "2 ProvisionedThroughputExceededException, 1 RecordTooLarge", most frequent first. */
export function formatReasons(reasons: Record<string, number>): string {
  return Object.entries(reasons)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, count]) => `${count} ${reason}`)
    .join(", ");
}

/** The summary block printed at the end of a run. */
export function formatSummary(summary: PublishSummary, requested: number): string {
  const lines = [
    `published ${summary.sent} of ${requested} records in ${(summary.durationMs / 1000).toFixed(1)} s ` +
      `(${summary.recordsPerSecond} records/s, ${formatBytes(summary.bytes)}, ${summary.requests} requests)`,
    `  retries: ${summary.retries.resentRecords} records resent, ${summary.retries.throttledRequests} throttled requests`,
    `  failed: ${summary.failed.count}${summary.failed.count > 0 ? ` (${formatReasons(summary.failed.reasons)})` : ""}`,
  ];
  if (summary.shards > 0) {
    lines.push(
      `  pacing: ${summary.shards} shards, ${summary.throttledEntries} throttled entries` +
        (summary.shardMapRefreshes > 0 ? `, shard map refreshed ${summary.shardMapRefreshes} times` : ""),
    );
  }
  if (summary.kinesisRecords > 0 && summary.kinesisRecords < summary.sent) {
    lines.push(`  aggregated: ${summary.sent} records in ${summary.kinesisRecords} Kinesis records (${formatBytes(summary.kinesisBytes)})`);
  }
  if (summary.interrupted) lines.push(`  interrupted: ${requested - summary.records} records were never sent`);
  return `${lines.join("\n")}\n`;
}

/** The one-line reason for a run that lost records, or undefined when every record was delivered. */
export function undeliveredReason(summary: PublishSummary, requested: number): string | undefined {
  const missing = requested - summary.sent;
  if (missing <= 0) return undefined;
  const reasons = { ...summary.failed.reasons };
  const notTaken = requested - summary.records;
  if (notTaken > 0) reasons[summary.interrupted ? "interrupted" : "not produced"] = notTaken;
  return `${missing} of ${requested} records could not be delivered (${formatReasons(reasons)})`;
}
