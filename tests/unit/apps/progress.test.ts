/**
 * The progress bars on a terminal (publish-demo, publish, replay): a line logged while the bar is drawn
 * gets its own line above it, a terminal's `^C` echo is drawn over, and the summary written after stop()
 * stands alone, with nothing of the bar left, also once the screen has scrolled. The bytes go through a
 * real terminal emulator (xterm.js).
 */
import * as assert from "assert";
import { Writable } from "stream";
import { startProgress } from "../../../apps/publisher/report";
import { startReplayProgress } from "../../../apps/replay/progress";
import { screenLines } from "../../helpers/terminal-screen";

class FakeTty extends Writable {
  isTTY = true;
  columns = 100;
  rows = 24;
  text = "";
  _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
  // readline's cursor functions call these on a TTY stream.
  getWindowSize(): [number, number] {
    return [this.columns, this.rows];
  }
}

const tick = (ms = 120) => new Promise((r) => setTimeout(r, ms));
const SUMMARY = ["published 100 of 100 records in 0.1 s", "  retries: 0 records resent, 0 throttled requests", "  failed: 0"];

describe("progress bars on a terminal", () => {
  it("publish: an info line stays apart from the bar and the summary leaves nothing of the bar", async () => {
    const tty = new FakeTty();
    const progress = startProgress(100, tty as unknown as NodeJS.WriteStream);
    tty.write("publishing 100 records (ids r-1..100) with 8 requests in flight\n");
    progress.update(40);
    await tick();
    progress.update(100);
    progress.stop();
    tty.write(`${SUMMARY.join("\n")}\n`);
    assert.deepStrictEqual(await screenLines(tty.text, { convertEol: true }), ["publishing 100 records (ids r-1..100) with 8 requests in flight", ...SUMMARY]);
  });

  it("publish: lines logged while the bar is drawn (Ctrl-C), at the bottom of a scrolling screen, keep their place above the summary", async () => {
    const tty = new FakeTty();
    // The screen is full: the bar starts on its last line, so every new line scrolls it.
    for (let i = 1; i <= 30; i++) tty.write(`earlier output ${i}\n`);
    const progress = startProgress(100, tty as unknown as NodeJS.WriteStream);
    progress.update(30);
    await tick();
    tty.write("^C"); // the terminal's echo of Ctrl-C, at the cursor
    progress.log("interrupted: finishing the records already taken");
    progress.update(60);
    await tick();
    progress.log("interrupted after line 60 of r.jsonl");
    progress.stop();
    tty.write(`${SUMMARY.join("\n")}\n`);
    const screen = await screenLines(tty.text, { convertEol: true });
    assert.deepStrictEqual(screen.slice(-6), [
      "earlier output 30",
      "interrupted: finishing the records already taken",
      "interrupted after line 60 of r.jsonl",
      ...SUMMARY,
    ]);
    assert.ok(!screen.some((l) => l.includes("publishing [")), screen.join("\n"));
  });

  it("replay: a corrupt object's line and the summary stand alone", async () => {
    const tty = new FakeTty();
    const progress = startReplayProgress(tty as unknown as NodeJS.WriteStream);
    const s = { objects: 4, objectsRead: 1, published: 500 } as Parameters<typeof progress.update>[0];
    progress.update(s);
    await tick();
    progress.log("skipped corrupt object data/x.gz (truncated); nothing of it was replayed");
    progress.update({ ...s, objectsRead: 4, published: 1500 });
    progress.stop();
    tty.write("replayed 1500 records from 4 objects in 0.3 s\n");
    assert.deepStrictEqual(await screenLines(tty.text, { convertEol: true }), [
      "skipped corrupt object data/x.gz (truncated); nothing of it was replayed",
      "replayed 1500 records from 4 objects in 0.3 s",
    ]);
  });
});
