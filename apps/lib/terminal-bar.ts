/**
 * A progress bar on a terminal that shares the screen with the app's log lines (cli-progress's MultiBar
 * with one bar). The bar is redrawn in place by relative cursor moves, and log lines go through `log()`,
 * which prints them above the bar; at stop the bar's line is cleared and the cursor left at its start, so
 * whatever the app writes next (the summary) starts on a clean line.
 *
 * Why not SingleBar: it saves the cursor at start and restores that absolute screen position at stop, so
 * any line written meanwhile (a log line, a scroll at the bottom of the screen) made the summary land on
 * top of earlier output and left the bar's last frame on screen.
 */
import * as cliProgress from "cli-progress";

export interface TerminalBar {
  /** Draws the bar (from the first call on) at `value` of `total`, with the format's other fields. */
  update(value: number, total: number, payload?: Record<string, unknown>): void;
  /** A line above the bar (written at once when the bar is not drawn). */
  log(line: string): void;
  /** Clears the bar, prints pending log lines; later calls do nothing. */
  stop(): void;
}

/** @param format cli-progress format, e.g. "publishing [{bar}] {value}/{total}" */
export function terminalBar(stream: NodeJS.WriteStream, format: string): TerminalBar {
  const multi = new cliProgress.MultiBar({ stream, format, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
  let bar: cliProgress.SingleBar | undefined;
  let running = true;
  return {
    update: (value, total, fields) => {
      if (!running) return;
      bar ??= multi.create(total, 0, fields);
      if (bar.getTotal() !== total) bar.setTotal(total);
      bar.update(value, fields);
    },
    log: (line) => {
      if (running && bar) multi.log(`${line}\n`);
      else stream.write(`${line}\n`);
    },
    stop: () => {
      if (!running) return;
      running = false;
      if (!bar) return;
      // Log lines wait for the next redraw: draw once more so none is lost, then clear the bar.
      (multi as unknown as { update(): void }).update();
      multi.stop();
    },
  };
}
