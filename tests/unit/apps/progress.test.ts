/**
 * The publisher's progress bar on a terminal (shared by publish-demo and publish): an info line logged
 * right after the bar starts gets its own line, and the summary after stop() leaves no bar remnant.
 * A small terminal emulator turns the bytes written into the lines a person would see.
 */
import * as assert from "assert";
import { Writable } from "stream";
import { startProgress } from "../../../apps/publisher/report";

/** The screen after `text`: \n, \r, ESC 7/8 (save/restore cursor), CSI nG, CSI K / 2K, CSI nA/B; others ignored. */
function screen(text: string): string[] {
  const lines: string[] = [""];
  let row = 0;
  let col = 0;
  let saved = { row: 0, col: 0 };
  const put = (ch: string) => {
    while (lines.length <= row) lines.push("");
    const line = lines[row].padEnd(col, " ");
    lines[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col += 1;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\n") {
      row += 1;
      col = 0;
      while (lines.length <= row) lines.push("");
    } else if (ch === "\r") col = 0;
    else if (ch === "\x1b") {
      const next = text[i + 1];
      if (next === "7") {
        saved = { row, col };
        i += 1;
      } else if (next === "8") {
        ({ row, col } = saved);
        i += 1;
      } else if (next === "[") {
        const m = /^\[(\??)([\d;]*)([A-Za-z])/.exec(text.slice(i + 1))!;
        i += m[0].length;
        const n = Number(m[2] || "0");
        if (m[1]) continue; // private modes (cursor visibility, line wrap)
        if (m[3] === "G") col = Math.max(0, n - 1);
        else if (m[3] === "K") lines[row] = n === 2 ? "" : n === 1 ? " ".repeat(col) + lines[row].slice(col) : lines[row].slice(0, col);
        else if (m[3] === "A") row = Math.max(0, row - (n || 1));
        else if (m[3] === "B") row += n || 1;
      }
    } else put(ch);
  }
  return lines.map((l) => l.trimEnd()).filter((l, i, all) => l !== "" || i < all.length - 1);
}

class FakeTty extends Writable {
  isTTY = true;
  columns = 120;
  text = "";
  _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe("publisher progress bar on a terminal", () => {
  it("keeps the info line apart from the bar and leaves nothing of the bar after the summary", async () => {
    const tty = new FakeTty();
    const progress = startProgress(100, tty as unknown as NodeJS.WriteStream);
    tty.write("publishing 100 records (ids r-1..100) with 8 requests in flight\n");
    progress.update(40);
    await new Promise((r) => setTimeout(r, 30));
    progress.update(100);
    progress.stop();
    tty.write("published 100 of 100 records in 0.1 s\n");
    assert.deepStrictEqual(screen(tty.text).filter((l) => l !== ""), [
      "publishing 100 records (ids r-1..100) with 8 requests in flight",
      "published 100 of 100 records in 0.1 s",
    ]);
  });

  it("the emulator sees what a bar leaves behind (guards the test itself)", () => {
    assert.deepStrictEqual(screen("\x1b7abc\x1b8\x1b[2Kxyz\n"), ["xyz"]);
    assert.deepStrictEqual(screen("bar 40%\x1b[1Ginfo\n"), ["info40%"]);
  });
});
