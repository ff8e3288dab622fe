/**
 * The declarative transform of a route: select, rename, set on a JSON object record. Pure. Records are
 * read and written losslessly (json.ts): a value the transform does not change is written exactly as it
 * was published (numbers keep their text), only the layout becomes compact.
 */
import { parseLossless, RecordObject, RecordValue, setField, stringifyLossless } from "./json";
import { TransformSpec } from "./spec";

export type JsonObject = RecordObject;

export const isJsonObject = (v: unknown): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v) && !("isLosslessNumber" in v);

/** Why a record cannot be processed; it goes to the dead-letter queue, never retried (it would fail again). */
export class PoisonRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PoisonRecordError";
  }
}

const TOO_DEEP = "the record is JSON nested too deeply to be read or written here, and this route needs a JSON object";

/** Parses a record's bytes as a JSON object, numbers kept exactly. @throws PoisonRecordError when they are not one. */
export function parseJsonObject(data: Uint8Array): JsonObject {
  let value: RecordValue;
  try {
    value = parseLossless(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch (err) {
    if (err instanceof RangeError) throw new PoisonRecordError(TOO_DEEP);
    throw new PoisonRecordError("the record is not JSON (UTF-8), and this route needs a JSON object");
  }
  if (!isJsonObject(value)) throw new PoisonRecordError("the record is JSON but not an object, and this route needs a JSON object");
  return value;
}

/** The transformed object: `select` keeps fields, then `rename` renames them, then `set` sets constants. */
export function applyTransform(record: JsonObject, spec: TransformSpec): JsonObject {
  let out: JsonObject = {};
  const has = (o: object, field: string) => Object.prototype.hasOwnProperty.call(o, field);
  if (spec.select) {
    for (const field of spec.select) if (has(record, field)) setField(out, field, record[field]);
  } else {
    for (const [field, value] of Object.entries(record)) setField(out, field, value);
  }
  if (spec.rename) {
    const renamed: JsonObject = {};
    for (const [field, value] of Object.entries(out)) setField(renamed, has(spec.rename, field) ? spec.rename[field] : field, value);
    out = renamed;
  }
  if (spec.set) for (const [field, value] of Object.entries(spec.set)) setField(out, field, value);
  return out;
}

/**
 * The bytes a transformed record is written as: compact JSON, numbers as published, ending in a newline
 * exactly when the original record did (so line-oriented readers see one record per line either way).
 * @throws PoisonRecordError when the record is not a JSON object or cannot be written
 */
export function transformRecord(data: Uint8Array, spec: TransformSpec): Uint8Array {
  const out = applyTransform(parseJsonObject(data), spec);
  const newline = data.length > 0 && data[data.length - 1] === 0x0a ? "\n" : "";
  let text: string;
  try {
    text = stringifyLossless(out);
  } catch (err) {
    if (err instanceof RangeError) throw new PoisonRecordError(TOO_DEEP);
    throw err;
  }
  return Buffer.from(text + newline, "utf8");
}
