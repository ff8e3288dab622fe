/**
 * Every IAM, KMS key and S3 bucket policy document the lake creates, as pure functions of plain ARN
 * strings, plus `findPolicyViolations`, the least-privilege scanner the tests run over every document.
 * No Pulumi here: components resolve their ARNs and call these inside `apply`.
 *
 * Rules every document follows (and the scanner enforces):
 * - No `Allow` with a wildcard action (`*`, `s3:*`, `kms:Generate*`): actions are listed one by one. The one
 *   exception is `kms:*` for the account root inside a KMS key policy (see `layerKeyPolicy`).
 * - No `Allow` on `Resource: "*"` outside key policies (in a key policy `*` means "this key").
 * - No `Allow` to a public principal, no `NotAction` / `NotResource` in an `Allow`.
 * - `Deny` statements may use wildcards: a deny can only take access away, and the TLS-only bucket
 *   policy must deny *every* S3 action over plain HTTP (`s3:*`) to mean anything (it is also the form
 *   AWS Config's `s3-bucket-ssl-requests-only` / Security Hub S3.5 look for).
 * - KMS use is always pinned to the service that uses the key (`kms:ViaService`) and, where the service
 *   passes one, to the encryption context of this segment's stream or bucket.
 */

export { POLICY_VERSION } from "./policies/document";
export type { ConditionBlock, PolicyDocument, PolicyStatement, Principal } from "./policies/document";
export { accountRootArn, DEFAULT_DNS_SUFFIX, logGroupArn, regionalServicePrincipal, servicePrincipal, viaService } from "./policies/principals";
export { firehoseAssumeRolePolicy, firehoseRolePolicy } from "./policies/firehose-role";
export type { FirehoseRolePolicyArgs } from "./policies/firehose-role";
export { consumerPolicy, fanOutConsumerPolicy, producerPolicy } from "./policies/stream-access";
export type { FanOutConsumerArgs, StreamAccessArgs } from "./policies/stream-access";
export { groupWorkerPolicy, LEASE_TABLE_ACTIONS, TABLE_KEY_ACTIONS } from "./policies/group-worker";
export type { GroupWorkerArgs } from "./policies/group-worker";
export { consumerResourcePolicy, SHARED_CONSUMER_ACTIONS, SHARED_READ_ACTIONS, SHARED_WRITE_ACTIONS, sharePrincipalArn, streamResourcePolicy } from "./policies/sharing";
export type { StreamShareArgs } from "./policies/sharing";
export { accountRootKeyStatement, KEY_POLICY_MAX_BYTES, layerKeyPolicy } from "./policies/key-policy";
export type { LayerKeyPolicyArgs } from "./policies/key-policy";
export { tlsOnlyBucketPolicy } from "./policies/bucket-policy";
export { routeAssumeRolePolicy, routeRolePolicy } from "./policies/route-role";
export type { RouteRolePolicyArgs } from "./policies/route-role";
export { findPolicyViolations } from "./policies/scanner";
export type { PolicyViolation, ScanOptions } from "./policies/scanner";
