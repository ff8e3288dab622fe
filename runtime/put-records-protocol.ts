/**
 * The Kinesis client's wire protocol (AWS JSON 1.1, the SDK's own `AwsJson1_1Protocol`) with a direct
 * path for PutRecords, the one call the publisher makes thousands of times a second.
 *
 * The SDK serializes a request by walking its schema member by member (`writeStruct`/`writeList`/
 * `writeBase64` for each of up to 500 entries) and reads the response the same way; at full speed that is
 * a third of the publisher's CPU per record. PutRecords' shapes are flat (strings, a blob, an integer), so
 * the request body is written byte by byte into one buffer (base64 data, JSON strings) and a successful
 * response is read with `JSON.parse`. Everything else is the SDK's: endpoint, headers, signing, retries,
 * error responses (a status of 300 or more goes through the SDK's error handling unchanged), and every
 * other operation. The body is the same JSON the SDK writes (tests/unit/apps/put-records-protocol.test.ts
 * compares the two for the same input).
 */
import { AwsJson1_1Protocol } from "@aws-sdk/core/protocols";
import { collectBody } from "@smithy/core/protocols";
import type { PutRecordsRequestEntry } from "@aws-sdk/client-kinesis";
import { putBytes as put } from "./bytes";

type Schema = Parameters<AwsJson1_1Protocol["serializeRequest"]>[0];
type Context = Parameters<AwsJson1_1Protocol["serializeRequest"]>[2];
type DeserializeContext = Parameters<AwsJson1_1Protocol["deserializeResponse"]>[1];
type HttpResponse = Parameters<AwsJson1_1Protocol["deserializeResponse"]>[2];

/** Members of PutRecordsInput this path writes; an input with any other member goes the SDK's way. */
const INPUT_MEMBERS = new Set(["Records", "StreamName", "StreamARN"]);

const ascii = (text: string) => Buffer.from(text, "latin1");
const OPEN = ascii('{"Records":[');
const DATA = ascii('{"Data":"');
const HASH_KEY = ascii('","ExplicitHashKey":');
const KEY_AFTER_DATA = ascii('","PartitionKey":');
const KEY_AFTER_HASH = ascii(',"PartitionKey":');
const CLOSE_RECORDS = ascii("]");
const STREAM_ARN = ascii(',"StreamARN":');
const STREAM_NAME = ascii(',"StreamName":');
const BASE64 = ascii("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
const QUOTE = 0x22;
const EQUALS = 0x3d;

/** Data up to this size is base64-encoded in place; bigger data by Node's encoder (faster per byte). */
const INLINE_BASE64_BYTES = 192;

/** Writes `data` base64-encoded (RFC 4648, padded, as the SDK writes a blob) at `pos`; returns the end. */
function putBase64(data: Uint8Array, out: Buffer, pos: number): number {
  const n = data.length;
  if (n > INLINE_BASE64_BYTES) return pos + out.write(Buffer.from(data.buffer, data.byteOffset, n).toString("base64"), pos, "latin1");
  const whole = n - (n % 3);
  for (let i = 0; i < whole; i += 3) {
    const v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out[pos] = BASE64[v >>> 18];
    out[pos + 1] = BASE64[(v >>> 12) & 63];
    out[pos + 2] = BASE64[(v >>> 6) & 63];
    out[pos + 3] = BASE64[v & 63];
    pos += 4;
  }
  if (n > whole) {
    const v = (data[whole] << 16) | (n - whole === 2 ? data[whole + 1] << 8 : 0);
    out[pos] = BASE64[v >>> 18];
    out[pos + 1] = BASE64[(v >>> 12) & 63];
    out[pos + 2] = n - whole === 2 ? BASE64[(v >>> 6) & 63] : EQUALS;
    out[pos + 3] = EQUALS;
    pos += 4;
  }
  return pos;
}

/**
 * Writes `text` as a JSON string at `pos`, the bytes `JSON.stringify` gives in UTF-8; returns the end.
 * Printable ASCII without quote or backslash (every partition key the apps make) is copied as it is.
 */
function putJsonString(text: string, out: Buffer, pos: number): number {
  out[pos] = QUOTE;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) return pos + out.write(JSON.stringify(text), pos, "utf8");
    out[pos + 1 + i] = c;
  }
  out[pos + 1 + text.length] = QUOTE;
  return pos + 2 + text.length;
}

/** Most bytes `putJsonString` writes for `text`: a UTF-16 unit is at most 6 bytes escaped (\uXXXX). */
const jsonStringBound = (text: string) => 2 + 6 * text.length;

/** Scratch space the bodies are written in; each body is copied out of it. */
let scratch = Buffer.allocUnsafe(1 << 20);
/** The scratch grows up to this; a bigger body (records near the 5 MiB request limit) gets its own buffer. */
const MAX_SCRATCH_BYTES = 4 << 20;

/**
 * The JSON body of a PutRecords request as UTF-8 bytes, or undefined when the input has a shape this path
 * does not write (an unknown member, a missing key): the SDK's serializer then handles it (and validates
 * it). Like the SDK, it writes only an entry's own members (Data, PartitionKey, ExplicitHashKey) and
 * ignores others. Written byte by byte into one buffer: no string per record, no re-encoding of the body.
 */
export function putRecordsBody(input: Record<string, unknown>): Buffer | undefined {
  for (const key of Object.keys(input)) if (!INPUT_MEMBERS.has(key)) return undefined;
  const records = input.Records;
  if (!Array.isArray(records)) return undefined;
  const streamArn = input.StreamARN == null ? undefined : String(input.StreamARN);
  const streamName = input.StreamName == null ? undefined : String(input.StreamName);
  let bound = 64 + (streamArn === undefined ? 0 : jsonStringBound(streamArn)) + (streamName === undefined ? 0 : jsonStringBound(streamName));
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as PutRecordsRequestEntry;
    if (r == null || r.Data == null || typeof r.PartitionKey !== "string") return undefined;
    if (typeof r.Data === "string") return undefined; // the SDK's way (not what the apps send)
    if (r.ExplicitHashKey != null && typeof r.ExplicitHashKey !== "string") return undefined;
    bound += 48 + 4 * Math.ceil(r.Data.length / 3) + jsonStringBound(r.PartitionKey) + (r.ExplicitHashKey == null ? 0 : jsonStringBound(r.ExplicitHashKey));
  }
  if (scratch.length < bound && bound <= MAX_SCRATCH_BYTES) scratch = Buffer.allocUnsafe(MAX_SCRATCH_BYTES);
  const out = scratch.length >= bound ? scratch : Buffer.allocUnsafe(bound);
  let pos = put(OPEN, out, 0);
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as PutRecordsRequestEntry;
    if (i > 0) out[pos++] = 0x2c;
    pos = put(DATA, out, pos);
    pos = putBase64(r.Data as Uint8Array, out, pos);
    const hashKey = r.ExplicitHashKey;
    if (hashKey != null) {
      pos = putJsonString(hashKey, out, put(HASH_KEY, out, pos));
      pos = put(KEY_AFTER_HASH, out, pos);
    } else pos = put(KEY_AFTER_DATA, out, pos);
    pos = putJsonString(r.PartitionKey as string, out, pos);
    out[pos++] = 0x7d;
  }
  pos = put(CLOSE_RECORDS, out, pos);
  if (streamArn !== undefined) pos = putJsonString(streamArn, out, put(STREAM_ARN, out, pos));
  if (streamName !== undefined) pos = putJsonString(streamName, out, put(STREAM_NAME, out, pos));
  out[pos++] = 0x7d;
  // A copy of the bytes written: the request keeps its body while the scratch serves the next one.
  return Buffer.from(out.subarray(0, pos));
}

/**
 * One PutRecordsResultEntry as the SDK's deserializer leaves it: its own members only, and a member that
 * is null on the wire (kinesis-local writes `"ErrorCode":null` for a stored record) left out.
 */
function resultEntry(raw: Record<string, unknown> | null): Record<string, unknown> {
  const entry: Record<string, unknown> = {};
  if (raw == null) return entry;
  if (raw.SequenceNumber != null) entry.SequenceNumber = raw.SequenceNumber;
  if (raw.ShardId != null) entry.ShardId = raw.ShardId;
  if (raw.ErrorCode != null) entry.ErrorCode = raw.ErrorCode;
  if (raw.ErrorMessage != null) entry.ErrorMessage = raw.ErrorMessage;
  return entry;
}

export class FastPutRecordsProtocol extends AwsJson1_1Protocol {
  override async serializeRequest(operationSchema: Schema, input: any, context: Context) {
    const body = operationSchema.name === "PutRecords" && input && typeof input === "object" ? putRecordsBody(input) : undefined;
    if (body === undefined) return super.serializeRequest(operationSchema, input, context);
    // The SDK builds the request (endpoint, path, headers) around an empty record list; the body is ours.
    const request = await super.serializeRequest(operationSchema, { ...input, Records: [] }, context);
    // Bytes, not a string: the signer hashes the body and the socket writes it; one encoding serves both.
    request.body = body;
    return request;
  }

  override async deserializeResponse(operationSchema: Schema, context: DeserializeContext, response: HttpResponse) {
    if (operationSchema.name !== "PutRecords" || response.statusCode >= 300) {
      return super.deserializeResponse(operationSchema, context, response);
    }
    const bytes = await collectBody(response.body, context as any);
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
    const parsed = text.length > 0 ? (JSON.parse(text) as { Records?: unknown } & Record<string, unknown>) : {};
    const output: Record<string, unknown> = {};
    // Only PutRecordsOutput's members, as the SDK's deserializer keeps them.
    if (parsed.FailedRecordCount != null) output.FailedRecordCount = parsed.FailedRecordCount;
    if (parsed.EncryptionType != null) output.EncryptionType = parsed.EncryptionType;
    if (Array.isArray(parsed.Records)) output.Records = parsed.Records.map(resultEntry);
    const lowered: Record<string, string> = {};
    for (const name of Object.keys(response.headers)) lowered[name.toLowerCase()] = response.headers[name];
    response.headers = lowered;
    output.$metadata = this.deserializeMetadata(response);
    return output as any;
  }
}
