/** Consumer group workers. */
import { doc, type PolicyDocument } from "./document";
import { viaService } from "./principals";
import { consumerPolicy, fanOutConsumerPolicy, type StreamAccessArgs } from "./stream-access";

/** What a worker does with its group's lease table (runtime/leases): no DeleteItem, no table management. */
export const LEASE_TABLE_ACTIONS = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Scan"];

/**
 * The KMS actions DynamoDB's documentation lists for principals that use a table encrypted with a customer
 * managed key ("How Amazon DynamoDB uses AWS KMS": Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*,
 * DescribeKey, CreateGrant), spelled out one by one. The docs do not say which of them reading and writing
 * items alone needs, so the worker gets the whole documented list, and only through DynamoDB.
 */
export const TABLE_KEY_ACTIONS = [
  "kms:Decrypt",
  "kms:DescribeKey",
  "kms:Encrypt",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
];

export interface GroupWorkerArgs extends StreamAccessArgs {
  /** The group's lease table. */
  tableArn: string;
  /** The registered consumer the group reads through; none: the workers poll. @default undefined */
  consumerArn?: string;
}

/**
 * What a worker of a consumer group needs: read the segment's stream (polling, or through the group's
 * own consumer only), read and write its group's lease table and nothing else in DynamoDB, and use the
 * layer key through Kinesis (this stream's records) and DynamoDB (the table) only.
 */
export function groupWorkerPolicy(a: GroupWorkerArgs): PolicyDocument {
  const read = a.consumerArn ? fanOutConsumerPolicy({ ...a, consumerArn: a.consumerArn }) : consumerPolicy(a);
  return doc(
    ...read.Statement,
    { Sid: "UseOwnLeaseTable", Effect: "Allow", Action: LEASE_TABLE_ACTIONS, Resource: a.tableArn },
    {
      Sid: "UseLeaseTableKey",
      Effect: "Allow",
      Action: TABLE_KEY_ACTIONS,
      Resource: a.keyArn,
      Condition: { StringEquals: { "kms:ViaService": viaService("dynamodb", a.region, a.dnsSuffix) } },
    },
    {
      // DynamoDB creates grants on the key for the table it encrypts; only for AWS resources, only through DynamoDB.
      Sid: "LetDynamoDbGrantForTheTable",
      Effect: "Allow",
      Action: "kms:CreateGrant",
      Resource: a.keyArn,
      Condition: {
        StringEquals: { "kms:ViaService": viaService("dynamodb", a.region, a.dnsSuffix) },
        Bool: { "kms:GrantIsForAWSResource": "true" },
      },
    },
  );
}
