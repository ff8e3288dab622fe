/** Route (processor: Lambda function fed by an event source mapping) role. */
import { doc, type PolicyDocument } from "./document";
import { viaService } from "./principals";
import { STREAM_POLL_ACTIONS, STREAM_WRITE_ACTIONS, streamKeyCondition } from "./stream-actions";

/** Trust policy letting one AWS service assume a role, only on behalf of this account (confused deputy). */
function serviceAssumeRolePolicy(sid: string, service: string, accountId: string): PolicyDocument {
  return doc({
    Sid: sid,
    Effect: "Allow",
    Principal: { Service: service },
    Action: "sts:AssumeRole",
    Condition: { StringEquals: { "aws:SourceAccount": accountId } },
  });
}

/** Trust policy of a route's role: only Lambda, and only on behalf of this account. */
export function routeAssumeRolePolicy(accountId: string): PolicyDocument {
  return serviceAssumeRolePolicy("LambdaAssumesRole", "lambda.amazonaws.com", accountId);
}

export interface RouteRolePolicyArgs {
  sourceStreamArn: string;
  /** The processor's own enhanced fan-out consumer on the source stream. */
  consumerArn: string;
  /** KMS key of the source segment's layer. */
  sourceKeyArn: string;
  targetStreamArn: string;
  /** KMS key of the target segment's layer (also encrypts the dead-letter queue and the log group). */
  targetKeyArn: string;
  /** The processor's own dead-letter queue. */
  queueArn: string;
  /** The function's own log group (ARN without `:*`). */
  logGroupArn: string;
  region: string;
  /** The partition's DNS suffix, for `kms:ViaService` (`aws.getPartition().dnsSuffix`). @default "amazonaws.com" */
  dnsSuffix?: string;
}

/**
 * Permissions of a route's processor (its Lambda execution role, which the event source mapping also
 * uses): read the source through its own consumer, write the target stream, send to its own
 * dead-letter queue, log to its own log group, and use the two layers' keys only through those services.
 */
export function routeRolePolicy(a: RouteRolePolicyArgs): PolicyDocument {
  return doc(
    {
      Sid: "ReadSourceThroughConsumer",
      Effect: "Allow",
      Action: ["kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"],
      Resource: a.consumerArn,
    },
    {
      Sid: "ReadSourceStream",
      Effect: "Allow",
      Action: STREAM_POLL_ACTIONS,
      Resource: a.sourceStreamArn,
    },
    {
      Sid: "DecryptSourceStream",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: a.sourceKeyArn,
      Condition: streamKeyCondition({ streamArn: a.sourceStreamArn, region: a.region, dnsSuffix: a.dnsSuffix }),
    },
    {
      Sid: "WriteTargetStream",
      Effect: "Allow",
      Action: STREAM_WRITE_ACTIONS,
      Resource: a.targetStreamArn,
    },
    {
      Sid: "EncryptTargetStream",
      Effect: "Allow",
      Action: "kms:GenerateDataKey",
      Resource: a.targetKeyArn,
      Condition: streamKeyCondition({ streamArn: a.targetStreamArn, region: a.region, dnsSuffix: a.dnsSuffix }),
    },
    {
      Sid: "SendToOwnDeadLetterQueue",
      Effect: "Allow",
      Action: "sqs:SendMessage",
      Resource: a.queueArn,
    },
    {
      Sid: "EncryptDeadLetters",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: a.targetKeyArn,
      Condition: { StringEquals: { "kms:ViaService": viaService("sqs", a.region, a.dnsSuffix) } },
    },
    {
      Sid: "WriteOwnLogGroup",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: `${a.logGroupArn}:*`,
    },
  );
}
