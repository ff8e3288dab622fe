/**
 * The declarative transform of a route: select, rename, set on a JSON object record. Pure.
 */
import { JsonValue, TransformSpec } from "./spec";

export type JsonObject = { [key: string]: JsonValue };

export const isJsonObject = (v: unknown): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v);

/** Why a record cannot be processed; it goes to the dead-letter queue, never retried (it would fail again). */
export class PoisonRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PoisonRecordError";
  }
}

/** Parses a record's bytes as a JSON object. @throws PoisonRecordError when they are not one. */
export function parseJsonObject(data: Uint8Array): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch {
    throw new PoisonRecordError("the record is not JSON (UTF-8), and this route needs a JSON object");
  }
  if (!isJsonObject(value)) throw new PoisonRecordError("the record is JSON but not an object, and this route needs a JSON object");
  return value;
}

/** The transformed object: `select` keeps fields, then `rename` renames them, then `set` sets constants. */
export function applyTransform(record: JsonObject, spec: TransformSpec): JsonObject {
  let out: JsonObject = record;
  if (spec.select) {
    out = {};
    for (const field of spec.select) if (Object.prototype.hasOwnProperty.call(record, field)) out[field] = record[field];
  } else {
    out = { ...record };
  }
  if (spec.rename) {
    const renamed: JsonObject = {};
    for (const [field, value] of Object.entries(out)) {
      const to = Object.prototype.hasOwnProperty.call(spec.rename, field) ? spec.rename[field] : field;
      renamed[to] = value;
    }
    out = renamed;
  }
  if (spec.set) for (const [field, value] of Object.entries(spec.set)) out[field] = value;
  return out;
}

/**
 * The bytes a transformed record is written as: compact JSON, ending in a newline exactly when the
 * original record did (so line-oriented readers see one record per line either way).
 */
export function transformRecord(data: Uint8Array, spec: TransformSpec): Uint8Array {
  const out = applyTransform(parseJsonObject(data), spec);
  const newline = data.length > 0 && data[data.length - 1] === 0x0a ? "\n" : "";
  return Buffer.from(JSON.stringify(out) + newline, "utf8");
}
