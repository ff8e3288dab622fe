/** Producer and consumer managed policies. */
import { doc, type PolicyDocument } from "./document";
import { STREAM_WRITE_ACTIONS, streamKeyCondition } from "./stream-actions";

export interface StreamAccessArgs {
  streamArn: string;
  /** The layer's KMS key, which encrypts the stream. */
  keyArn: string;
  region: string;
  /** The partition's DNS suffix, for `kms:ViaService`. @default "amazonaws.com" */
  dnsSuffix?: string;
}

/** What a publisher needs to write to one segment (attach to the publisher's role or user). */
export function producerPolicy(a: StreamAccessArgs): PolicyDocument {
  return doc(
    {
      Sid: "PutRecords",
      Effect: "Allow",
      Action: STREAM_WRITE_ACTIONS,
      Resource: a.streamArn,
    },
    {
      Sid: "EncryptRecords",
      Effect: "Allow",
      Action: "kms:GenerateDataKey",
      Resource: a.keyArn,
      Condition: streamKeyCondition(a),
    },
  );
}

/**
 * What a subscriber needs to read one segment by polling (`GetRecords`), and nothing more: the stream's
 * shards and records, on the stream ARN only. Enhanced fan-out is not in it: each consumer declared in
 * the config is registered by the stack and has its own policy (`fanOutConsumerPolicy`), scoped to that
 * consumer; registering or deregistering consumers is the stack's job, not a subscriber's.
 */
export function consumerPolicy(a: StreamAccessArgs): PolicyDocument {
  return doc(
    {
      Sid: "ReadRecords",
      Effect: "Allow",
      Action: [
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:ListShards",
      ],
      Resource: a.streamArn,
    },
    {
      Sid: "DecryptRecords",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: a.keyArn,
      Condition: streamKeyCondition(a),
    },
  );
}

export interface FanOutConsumerArgs extends StreamAccessArgs {
  /** The registered consumer's ARN (`<stream ARN>/consumer/<name>:<creation time>`). */
  consumerArn: string;
}

/**
 * What an enhanced fan-out subscriber needs to read one segment through one registered consumer:
 * find the shards on the stream (`ListShards`, `DescribeStreamSummary`; actions on the stream resource),
 * look up and subscribe through its own consumer (`DescribeStreamConsumer`, `SubscribeToShard`; actions on
 * the consumer resource, so only this consumer's exact ARN), and decrypt the records through Kinesis.
 * The subscribe statement also names the stream ARN: older IAM references list the stream as a second
 * required resource of these two actions. Under either reading it lets no other consumer be used (the
 * consumer's own ARN must match too, or the stream ARN never matches a consumer request).
 * No `GetRecords` (fan-out pushes records), no `RegisterStreamConsumer` / `DeregisterStreamConsumer`
 * (the stack owns the consumer's life), no other consumer.
 */
export function fanOutConsumerPolicy(a: FanOutConsumerArgs): PolicyDocument {
  return doc(
    {
      Sid: "FindShards",
      Effect: "Allow",
      Action: ["kinesis:DescribeStreamSummary", "kinesis:ListShards"],
      Resource: a.streamArn,
    },
    {
      Sid: "SubscribeThroughOwnConsumer",
      Effect: "Allow",
      Action: ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
      Resource: [a.consumerArn, a.streamArn],
    },
    {
      Sid: "DecryptRecords",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: a.keyArn,
      Condition: streamKeyCondition(a),
    },
  );
}
