/** Layer KMS key policy. */
import { doc, type PolicyDocument, type PolicyStatement } from "./document";
import { accountRootArn, logGroupArn, regionalServicePrincipal } from "./principals";
import { sharedStatements, type StreamShareArgs } from "./sharing";
import { streamKeyCondition } from "./stream-actions";

export interface LayerKeyPolicyArgs {
  accountId: string;
  region: string;
  /** @default "aws" */
  partition?: string;
  /** The partition's DNS suffix (CloudWatch Logs' principal, `kms:ViaService`). @default "amazonaws.com" */
  dnsSuffix?: string;
  /**
   * The layer's log-group name space: every log group whose name starts with `prefix` may use the key,
   * except those starting with one of `except` (the name spaces of other layers whose names extend this
   * layer's, such as `ingest-raw` for `ingest`). One condition for the whole layer, however many segments
   * it has, so the key policy stays far below KMS's 32 KB limit.
   * @default none
   */
  logGroups?: { prefix: string; except: string[] };
  /**
   * The log-group name space of the processors writing into the layer (`/datalake/<lake>/<layer>/processors/`):
   * every log group whose name starts with it may use the key. One condition however many routes lead into
   * the layer. @default none
   */
  processorLogGroupPrefix?: string;
  /** Log groups listed by exact name (for keys that serve a fixed set of log groups). @default [] */
  logGroupNames?: string[];
  /** The layer's segments shared with other accounts (see `streamResourcePolicy`). @default [] */
  shares?: StreamShareArgs[];
}

/** KMS key policies may not exceed 32 KB (32,768 bytes). */
export const KEY_POLICY_MAX_BYTES = 32 * 1024;

/**
 * Key policy of a layer's KMS key.
 *
 * Chicken and egg: the segments' roles and policies need the key ARN, so the key must exist first, and
 * its policy cannot name roles that do not exist yet. We therefore use the AWS default key-policy shape:
 * the account root gets `kms:*`, which does not grant anything to anyone by itself but makes IAM policies
 * in this account effective for this key. Each principal's use of the key is then granted by the IAM
 * policies that name this key ARN (Firehose role, producer, consumer, route roles), each pinned to a
 * service with `kms:ViaService` and to its own stream or bucket by encryption context.
 *
 * Granted directly in the key policy:
 * - CloudWatch Logs (it uses no IAM role), only for this layer's Firehose log groups: one `ArnLike` on the
 *   layer's name prefix, with an `ArnNotLike` for each other layer whose name extends this one (so layer
 *   `ingest` never serves `ingest-raw`'s logs). The config check keeps segment names out of another
 *   layer's name space. Adding a segment therefore changes nothing here.
 * - CloudWatch Logs, for the log groups of the processors writing into this layer: one `ArnLike` on the
 *   layer's processor name space (`/datalake/<lake>/<layer>/processors/`, "/"-delimited, so no other
 *   layer's). Adding a route therefore changes nothing here either.
 * - Other accounts a segment is shared with: producers may `GenerateDataKey`, consumers `Decrypt`, each
 *   only through Kinesis and only for that segment's stream (encryption context = the stream ARN). A
 *   shared role is named by its account principal and `aws:PrincipalArn` (`sharedStatements`), never as a
 *   principal itself: KMS requires every principal of a key policy to exist, and one role created later
 *   would otherwise fail the policy of the whole layer's key.
 */
/**
 * The first statement of every key policy of the lake: the account root, so that IAM policies naming the
 * key take effect, as in AWS's default key policy (the one place `kms:*` and `Resource: "*"` are allowed).
 */
export function accountRootKeyStatement(accountId: string, partition = "aws"): PolicyStatement {
  return { Sid: "EnableIamPoliciesOfThisAccount", Effect: "Allow", Principal: { AWS: accountRootArn(accountId, partition) }, Action: "kms:*", Resource: "*" };
}

export function layerKeyPolicy(a: LayerKeyPolicyArgs): PolicyDocument {
  const partition = a.partition ?? "aws";
  const statements: PolicyStatement[] = [
    accountRootKeyStatement(a.accountId, partition),
  ];
  const logsActions = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
  ];
  const logsPrincipal = { Service: regionalServicePrincipal("logs", a.region, a.dnsSuffix) };
  if (a.logGroups) {
    const arnOf = (prefix: string) => `${logGroupArn(prefix, a.region, a.accountId, partition)}*`;
    const except = [...new Set(a.logGroups.except)].sort().map(arnOf);
    statements.push({
      Sid: "AllowFirehoseLogGroupsOfThisLayer",
      Effect: "Allow",
      Principal: logsPrincipal,
      Action: logsActions,
      Resource: "*",
      Condition: {
        ArnLike: { "kms:EncryptionContext:aws:logs:arn": arnOf(a.logGroups.prefix) },
        ...(except.length > 0 ? { ArnNotLike: { "kms:EncryptionContext:aws:logs:arn": except } } : {}),
      },
    });
  }
  if (a.processorLogGroupPrefix) {
    statements.push({
      Sid: "AllowProcessorLogGroupsOfThisLayer",
      Effect: "Allow",
      Principal: logsPrincipal,
      Action: logsActions,
      Resource: "*",
      Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `${logGroupArn(a.processorLogGroupPrefix, a.region, a.accountId, partition)}*` } },
    });
  }
  const logGroups = [...new Set(a.logGroupNames ?? [])].sort().map((name) => logGroupArn(name, a.region, a.accountId, partition));
  if (logGroups.length > 0) {
    statements.push({
      Sid: "AllowListedLogGroups",
      Effect: "Allow",
      Principal: logsPrincipal,
      Action: logsActions,
      Resource: "*",
      Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": logGroups } },
    });
  }
  for (const share of a.shares ?? []) {
    // Sids are letters and digits: "-" becomes "X" (names are lowercase), so distinct streams keep distinct Sids.
    const name = share.streamArn.slice(share.streamArn.lastIndexOf("/") + 1).replace(/-/g, "X").replace(/[^A-Za-z0-9]/g, "");
    const condition = streamKeyCondition({ streamArn: share.streamArn, region: a.region, dnsSuffix: a.dnsSuffix });
    statements.push(
      ...sharedStatements({ accounts: `SharedProducers${name}`, roles: `SharedProducerRoles${name}` }, share.producers ?? [], {
        Action: "kms:GenerateDataKey",
        Resource: "*",
        Condition: condition,
      }),
      ...sharedStatements({ accounts: `SharedConsumers${name}`, roles: `SharedConsumerRoles${name}` }, share.consumers ?? [], {
        Action: "kms:Decrypt",
        Resource: "*",
        Condition: condition,
      }),
    );
  }
  return doc(...statements);
}
