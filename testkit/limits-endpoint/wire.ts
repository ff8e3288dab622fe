/**
 * The awsJson1_1 wire format the limits endpoint speaks (as @aws-sdk/client-kinesis v3 does): a reply,
 * the PutRecords entry and result shapes, and the two helpers every part needs.
 */

export const JSON_CONTENT_TYPE = "application/x-amz-json-1.1";
export const TARGET_PREFIX = "Kinesis_20131202.";

/** One HTTP answer; errors in the shape the SDK parses (HTTP 400, `x-amzn-ErrorType`, `__type`). */
export class HttpReply {
  constructor(
    readonly status: number,
    readonly body: Buffer | string,
    readonly headers: Record<string, string> = {},
  ) {}
  static json(value: unknown): HttpReply {
    return new HttpReply(200, JSON.stringify(value), { "content-type": JSON_CONTENT_TYPE });
  }
  static error(type: string, message: string, status = 400): HttpReply {
    return new HttpReply(status, JSON.stringify({ __type: type, message }), {
      "content-type": JSON_CONTENT_TYPE,
      "x-amzn-errortype": type,
    });
  }
}

export interface PutEntry {
  Data: string;
  PartitionKey: string;
  ExplicitHashKey?: string;
}

export interface PutResult {
  SequenceNumber?: string;
  ShardId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

/** Decoded length of a base64 string without decoding it. */
export function base64Length(s: string): number {
  let pad = 0;
  if (s.endsWith("==")) pad = 2;
  else if (s.endsWith("=")) pad = 1;
  return Math.floor((s.length * 3) / 4) - pad;
}

/** The stream a call names, by `StreamName` or by the name at the end of `StreamARN`. */
export function streamNameOf(input: { StreamName?: string; StreamARN?: string }): string {
  if (input.StreamName) return input.StreamName;
  const arn = input.StreamARN ?? "";
  return arn.slice(arn.indexOf("/") + 1);
}
