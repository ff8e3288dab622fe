/** The Kinesis action lists and the KMS condition shared by every policy that reads or writes a stream. */
import type { ConditionBlock } from "./document";
import { viaService } from "./principals";

/** Reading a stream by polling: what Firehose and route pipes need on their source. */
export const STREAM_POLL_ACTIONS = [
  "kinesis:DescribeStream",
  "kinesis:DescribeStreamSummary",
  "kinesis:GetShardIterator",
  "kinesis:GetRecords",
  "kinesis:ListShards",
];

/** Writing a stream: what producers and route pipes need on their target. */
export const STREAM_WRITE_ACTIONS = ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary", "kinesis:ListShards"];

/** KMS use through Kinesis only, and only for this stream's records. */
export function streamKeyCondition(a: { streamArn: string; region: string; dnsSuffix?: string }): ConditionBlock {
  return {
    StringEquals: { "kms:ViaService": viaService("kinesis", a.region, a.dnsSuffix) },
    StringLike: { "kms:EncryptionContext:aws:kinesis:arn": a.streamArn },
  };
}
