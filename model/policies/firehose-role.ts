/** Firehose (wire-tap) role. */
import { doc, type PolicyDocument } from "./document";
import { servicePrincipal, viaService } from "./principals";
import { STREAM_POLL_ACTIONS, streamKeyCondition } from "./stream-actions";

/**
 * Trust policy of a segment's Firehose role: only Firehose, and only on behalf of this account. AWS
 * documents the condition for Firehose as `sts:ExternalId` = the account id ("Allow Firehose to assume an
 * IAM role"), which is what Firehose passes when it assumes the role; `aws:SourceAccount` is not in it.
 */
export function firehoseAssumeRolePolicy(accountId: string): PolicyDocument {
  return doc({
    Sid: "FirehoseAssumesRole",
    Effect: "Allow",
    Principal: { Service: servicePrincipal("firehose") },
    Action: "sts:AssumeRole",
    Condition: { StringEquals: { "sts:ExternalId": accountId } },
  });
}

export interface FirehoseRolePolicyArgs {
  /** The segment's Kinesis stream (the only source Firehose reads). */
  streamArn: string;
  /** The segment's bucket (the only destination Firehose writes). */
  bucketArn: string;
  /** The layer's KMS key (encrypts both the stream and the bucket's objects). */
  keyArn: string;
  /** The log stream Firehose reports delivery errors to. */
  logStreamArn: string;
  region: string;
  /** The partition's DNS suffix, for `kms:ViaService`. @default "amazonaws.com" */
  dnsSuffix?: string;
}

/** Permissions of a segment's Firehose role: read this stream, write this bucket, use the layer key for both. */
export function firehoseRolePolicy(a: FirehoseRolePolicyArgs): PolicyDocument {
  return doc(
    {
      Sid: "ReadSourceStream",
      Effect: "Allow",
      Action: STREAM_POLL_ACTIONS,
      Resource: a.streamArn,
    },
    {
      Sid: "WriteDestinationBucket",
      Effect: "Allow",
      Action: [
        "s3:AbortMultipartUpload",
        "s3:GetBucketLocation",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:ListBucketMultipartUploads",
        "s3:PutObject",
      ],
      Resource: [a.bucketArn, `${a.bucketArn}/*`],
    },
    {
      Sid: "DecryptSourceStream",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: a.keyArn,
      Condition: streamKeyCondition(a),
    },
    {
      Sid: "EncryptDestinationObjects",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: a.keyArn,
      Condition: {
        StringEquals: { "kms:ViaService": viaService("s3", a.region, a.dnsSuffix) },
        // With S3 Bucket Keys the context is the bucket ARN; without, the object ARN.
        StringLike: { "kms:EncryptionContext:aws:s3:arn": [a.bucketArn, `${a.bucketArn}/*`] },
      },
    },
    {
      Sid: "ReportDeliveryErrors",
      Effect: "Allow",
      Action: "logs:PutLogEvents",
      Resource: a.logStreamArn,
    },
  );
}
