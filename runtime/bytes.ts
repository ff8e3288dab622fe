/**
 * Byte writing for the hot paths that build records and request bodies straight into a buffer.
 */

/**
 * Copies a short piece of bytes into `out` at `pos` and returns the position after it. A JavaScript loop:
 * for the few bytes of a JSON key or a constant, a call into a native copy costs more than the copy.
 */
export function putBytes(bytes: Uint8Array, out: Uint8Array, pos: number): number {
  for (let i = 0; i < bytes.length; i++) out[pos + i] = bytes[i];
  return pos + bytes.length;
}
