/** Cross-account sharing: stream and consumer resource policies. */
import { doc, type PolicyDocument, type PolicyStatement } from "./document";
import { accountRootArn } from "./principals";

/** `arn:aws:iam::111122223333:root` for a 12-digit account id; a role ARN as it is. */
export function sharePrincipalArn(accountOrRoleArn: string, partition = "aws"): string {
  return /^\d{12}$/.test(accountOrRoleArn) ? accountRootArn(accountOrRoleArn, partition) : accountOrRoleArn;
}

/** Writing a stream from another account: the actions AWS's own "write access" sharing example grants. */
export const SHARED_WRITE_ACTIONS = ["kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:PutRecord", "kinesis:PutRecords"];
/**
 * Reading a stream from another account by polling (AWS's "read access" sharing example), plus
 * `DescribeStream`, which AWS says to include for another account's Lambda event source mapping.
 */
export const SHARED_READ_ACTIONS = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:GetRecords", "kinesis:GetShardIterator"];
/** Reading through a registered consumer from another account (the consumer's own resource policy). */
export const SHARED_CONSUMER_ACTIONS = ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"];

/**
 * `arn:aws:iam::444455556666:root` for `arn:aws:iam::444455556666:role/reader`. Anything else comes back
 * as it is: the config check refuses it with its path, and its size check builds policies before that.
 */
function accountPrincipalOf(principalArn: string): string {
  const m = /^arn:([a-z-]+):iam::(\d{12}):/.exec(principalArn);
  return m ? accountRootArn(m[2], m[1]) : principalArn;
}

/**
 * The statements granting shared principals (account roots and role ARNs, see `sharePrincipalArn`) one
 * set of actions. Account roots are named as they are. A role is never named as a principal: KMS refuses
 * a key policy whose principals do not exist (yet), and a partner's role may be created after the share.
 * Instead its account principal is named with `aws:PrincipalArn` equal to the role's ARN, which IAM
 * matches against the calling role whether or not it existed when the policy was set (and again after it
 * is re-created under the same name). One statement `<sid>` for accounts, one `<sid-singular>Roles` for
 * roles, so an account id in the share still grants its whole account.
 */
export function sharedStatements(
  sid: { accounts: string; roles: string },
  principals: string[],
  body: Omit<PolicyStatement, "Sid" | "Effect" | "Principal">,
): PolicyStatement[] {
  const unique = [...new Set(principals)].sort();
  const accounts = unique.filter((p) => /:root$/.test(p));
  const roles = unique.filter((p) => !/:root$/.test(p));
  const out: PolicyStatement[] = [];
  if (accounts.length > 0) out.push({ Sid: sid.accounts, Effect: "Allow", Principal: { AWS: accounts }, ...body });
  if (roles.length > 0) {
    out.push({
      Sid: sid.roles,
      Effect: "Allow",
      Principal: { AWS: [...new Set(roles.map(accountPrincipalOf))].sort() },
      ...body,
      Condition: { ...(body.Condition ?? {}), ArnEquals: { "aws:PrincipalArn": roles } },
    });
  }
  return out;
}

export interface StreamShareArgs {
  streamArn: string;
  /** Principal ARNs (account roots or roles) that may write. @default [] */
  producers?: string[];
  /** Principal ARNs that may read. @default [] */
  consumers?: string[];
}

/**
 * Resource policy of a shared segment's stream: the named principals may write or read this stream, and
 * nothing else. Undefined when the segment is shared with nobody. Kinesis accepts no wildcard action or
 * principal and no service principal here, and at most 20 KB. Roles are granted through their account
 * principal and `aws:PrincipalArn` (`sharedStatements`): the Kinesis documentation does not say whether it
 * requires a named role to exist, so the safe form is used here as in the key policy.
 */
export function streamResourcePolicy(a: StreamShareArgs): PolicyDocument | undefined {
  const statements: PolicyStatement[] = [
    ...sharedStatements({ accounts: "SharedProducers", roles: "SharedProducerRoles" }, a.producers ?? [], { Action: SHARED_WRITE_ACTIONS, Resource: a.streamArn }),
    ...sharedStatements({ accounts: "SharedConsumers", roles: "SharedConsumerRoles" }, a.consumers ?? [], { Action: SHARED_READ_ACTIONS, Resource: a.streamArn }),
  ];
  return statements.length > 0 ? doc(...statements) : undefined;
}

/** Resource policy of a registered consumer shared with other accounts' readers. */
export function consumerResourcePolicy(a: { consumerArn: string; consumers: string[] }): PolicyDocument {
  return doc(
    ...sharedStatements({ accounts: "SharedFanOutConsumers", roles: "SharedFanOutConsumerRoles" }, a.consumers, {
      Action: SHARED_CONSUMER_ACTIONS,
      Resource: a.consumerArn,
    }),
  );
}
