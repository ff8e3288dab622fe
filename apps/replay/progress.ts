/**
 * Replay's progress: a bar over the window's objects on a terminal, a line every few seconds otherwise.
 */
import * as cliProgress from "cli-progress";
import type { ReplaySummary } from "./replay";

export interface ReplayProgress {
  update(summary: ReplaySummary): void;
  /** A log line that does not break the bar. */
  log(line: string): void;
  stop(): void;
}

/** @param intervalMs @default 5000 */
export function startReplayProgress(stream: NodeJS.WriteStream = process.stderr, intervalMs = 5_000): ReplayProgress {
  let last: ReplaySummary | undefined;
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: "replaying [{bar}] {value}/{total} objects | {published} records published | {duration}s", hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    let running = true;
    return {
      update: (s) => {
        if (!running) return;
        if (!started) {
          bar.start(s.objects, 0, { published: 0 });
          started = true;
        }
        bar.update(s.objectsRead, { published: s.published });
      },
      log: (line) => stream.write(`\n${line}\n`),
      stop: () => {
        if (running && started) bar.stop();
        running = false;
      },
    };
  }
  const timer = setInterval(() => {
    if (last) stream.write(`replay: ${last.objectsRead} of ${last.objects} objects, ${last.published} records published\n`);
  }, intervalMs);
  timer.unref();
  return {
    update: (s) => {
      last = s;
    },
    log: (line) => stream.write(`${line}\n`),
    stop: () => clearInterval(timer),
  };
}
