/**
 * The Kinesis client's wire protocol (AWS JSON 1.1, the SDK's own `AwsJson1_1Protocol`) with a direct
 * path for PutRecords, the one call the publisher makes thousands of times a second.
 *
 * The SDK serializes a request by walking its schema member by member (`writeStruct`/`writeList`/
 * `writeBase64` for each of up to 500 entries) and reads the response the same way; at full speed that is
 * a third of the publisher's CPU per record. PutRecords' shapes are flat (strings, a blob, an integer), so
 * the request body is built in one pass (base64 data, `JSON.stringify`'d strings) and a successful
 * response is read with `JSON.parse`. Everything else is the SDK's: endpoint, headers, signing, retries,
 * error responses (a status of 300 or more goes through the SDK's error handling unchanged), and every
 * other operation. The body is the same JSON the SDK writes (tests/unit/apps/put-records-protocol.test.ts
 * compares the two for the same input).
 */
import { AwsJson1_1Protocol } from "@aws-sdk/core/protocols";
import { collectBody } from "@smithy/core/protocols";
import type { PutRecordsRequestEntry } from "@aws-sdk/client-kinesis";

type Schema = Parameters<AwsJson1_1Protocol["serializeRequest"]>[0];
type Context = Parameters<AwsJson1_1Protocol["serializeRequest"]>[2];
type DeserializeContext = Parameters<AwsJson1_1Protocol["deserializeResponse"]>[1];
type HttpResponse = Parameters<AwsJson1_1Protocol["deserializeResponse"]>[2];

/** Members of PutRecordsInput this path writes; an input with any other member goes the SDK's way. */
const INPUT_MEMBERS = new Set(["Records", "StreamName", "StreamARN"]);

function base64(data: Uint8Array | string): string {
  if (typeof data === "string") return Buffer.from(data, "utf8").toString("base64");
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64");
}

/**
 * The JSON body of a PutRecords request, or undefined when the input has a shape this path does not write
 * (an unknown member, a missing key): the SDK's serializer then handles it (and validates it). Like the
 * SDK, it writes only an entry's own members (Data, PartitionKey, ExplicitHashKey) and ignores others.
 */
export function putRecordsBody(input: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(input)) if (!INPUT_MEMBERS.has(key)) return undefined;
  const records = input.Records;
  if (!Array.isArray(records)) return undefined;
  let body = '{"Records":[';
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as PutRecordsRequestEntry;
    if (r == null || r.Data == null || typeof r.PartitionKey !== "string") return undefined;
    if (i > 0) body += ",";
    body += `{"Data":"${base64(r.Data as Uint8Array)}"`;
    if (r.ExplicitHashKey != null) body += `,"ExplicitHashKey":${JSON.stringify(r.ExplicitHashKey)}`;
    body += `,"PartitionKey":${JSON.stringify(r.PartitionKey)}}`;
  }
  body += "]";
  if (input.StreamARN != null) body += `,"StreamARN":${JSON.stringify(input.StreamARN)}`;
  if (input.StreamName != null) body += `,"StreamName":${JSON.stringify(input.StreamName)}`;
  return `${body}}`;
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
    request.body = Buffer.from(body, "utf8");
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
