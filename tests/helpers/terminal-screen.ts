/**
 * What a person sees on a terminal after some output: the bytes go through a real terminal emulator
 * (xterm.js, headless), scrollback included, and come back as the screen's lines.
 */
import { Terminal } from "@xterm/headless";

/**
 * The lines of the screen and its scrollback after `output`, trailing blanks trimmed and trailing empty
 * lines dropped. `convertEol`: a bare \n also returns to the first column (output not through a pty,
 * which translates \n to \r\n itself).
 */
export async function screenLines(output: string | Buffer, options: { cols?: number; rows?: number; convertEol?: boolean } = {}): Promise<string[]> {
  const term = new Terminal({ cols: options.cols ?? 100, rows: options.rows ?? 24, scrollback: 10_000, convertEol: options.convertEol ?? false, allowProposedApi: true });
  await new Promise<void>((resolve) => term.write(typeof output === "string" ? output : new Uint8Array(output), resolve));
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? "");
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  term.dispose();
  return lines;
}
