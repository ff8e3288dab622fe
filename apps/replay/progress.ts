/**
 * Replay's progress: a bar over the window's objects on a terminal, a line every few seconds otherwise.
 */
import { terminalBar } from "../lib/terminal-bar";
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
    const bar = terminalBar(stream, "replaying [{bar}] {value}/{total} objects | {published} records published | {duration}s");
    return {
      update: (s) => bar.update(s.objectsRead, s.objects, { published: s.published }),
      log: (line) => bar.log(line),
      stop: () => bar.stop(),
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
