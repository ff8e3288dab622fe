/**
 * Reading and writing records' JSON without changing a value: numbers keep their exact text (digits past
 * a double's precision, values beyond its range, spellings such as `1.0` or `-0`), through the
 * `lossless-json` library. JSON.parse would turn 123456789012345678901 into 123456789012345680000.
 * Pure.
 */
import { isLosslessNumber, isSafeNumber, LosslessNumber, parse, stringify } from "lossless-json";

export { isLosslessNumber, LosslessNumber };

/** A value of a record as read here: numbers are LosslessNumbers (or plain numbers, from the config). */
export type RecordValue = string | number | boolean | null | LosslessNumber | RecordValue[] | { [key: string]: RecordValue };
export type RecordObject = { [key: string]: RecordValue };

/**
 * Parses JSON text keeping every number's text. A name that occurs twice in an object keeps its last
 * value, as JSON.parse does (lossless-json would throw).
 * @throws SyntaxError when the text is not JSON; RangeError when it is nested too deeply to read
 */
export function parseLossless(text: string): RecordValue {
  return parse(text, undefined, { onDuplicateKey: ({ newValue }) => newValue }) as RecordValue;
}

/**
 * Compact JSON text of a value, numbers as they were read.
 * @throws RangeError when the value is nested too deeply to write
 */
export function stringifyLossless(value: RecordValue): string {
  return stringify(value) as string;
}

/** The number a value holds as a double (a LosslessNumber beyond the range reads as ±Infinity); undefined when not a number. */
export function toDouble(v: RecordValue | undefined): number | undefined {
  if (typeof v === "number") return v;
  if (isLosslessNumber(v)) return Number.parseFloat((v as LosslessNumber).value);
  return undefined;
}

/**
 * A value with every number that a double holds exactly turned into that double (`1.0` and `1` become
 * 1), and every other number kept as its exact text: so values equal as JSON.parse reads them compare
 * equal, and values JSON.parse would merge (two integers past 2^53) stay apart.
 */
export function canonicalValue(v: RecordValue): RecordValue {
  if (isLosslessNumber(v)) {
    const text = (v as LosslessNumber).value;
    return isSafeNumber(text) ? Number.parseFloat(text) : v;
  }
  if (Array.isArray(v)) return v.map(canonicalValue);
  if (v !== null && typeof v === "object") {
    const out: RecordObject = {};
    for (const [k, x] of Object.entries(v)) setField(out, k, canonicalValue(x));
    return out;
  }
  return v;
}

/** Sets a field, `__proto__` included, as an ordinary own property (as JSON.parse creates it). */
export function setField(object: RecordObject, key: string, value: RecordValue): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}
