/**
 * Pure tests of the policy documents and of the scanner that the infra tests run over the whole stack.
 */
import * as assert from "assert";
import {
  consumerPolicy,
  consumerResourcePolicy,
  fanOutConsumerPolicy,
  KEY_POLICY_MAX_BYTES,
  streamResourcePolicy,
  viaService,
  findPolicyViolations,
  firehoseAssumeRolePolicy,
  firehoseRolePolicy,
  layerKeyPolicy,
  PolicyDocument,
  PolicyStatement,
  producerPolicy,
  routeAssumeRolePolicy,
  routeRolePolicy,
  tlsOnlyBucketPolicy,
} from "../../model/policies";
import { principalMayDo } from "../helpers/key-policy-match";
import { FILTER_PATTERN_MAX_LENGTH, recordPassesFilter, routeFilterCriteria, routeFilterPattern } from "../../model/processor/filter";

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const STREAM = `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/lake-ingest-persons`;
const OTHER_STREAM = `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/lake-curated-adults`;
const BUCKET = "arn:aws:s3:::lake-ingest-persons-123456789012";
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/ingest`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/curated`;
const ROUTE_ARGS = {
  sourceStreamArn: STREAM,
  consumerArn: `${STREAM}/consumer/lake-r:1700000000`,
  sourceKeyArn: KEY,
  targetStreamArn: OTHER_STREAM,
  targetKeyArn: OTHER_KEY,
  queueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:lake-r-dlq`,
  logGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/lake-r`,
  region: REGION,
};
const LOG_STREAM = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/kinesisfirehose/lake-ingest-persons:log-stream:DestinationDelivery`;

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const bySid = (doc: PolicyDocument, sid: string): PolicyStatement => {
  const s = doc.Statement.find((x) => x.Sid === sid);
  assert.ok(s, `no statement ${sid}`);
  return s;
};
const actionsOf = (doc: PolicyDocument) => doc.Statement.flatMap((s) => asList(s.Action));
const resourcesOf = (doc: PolicyDocument) => doc.Statement.flatMap((s) => asList(s.Resource));

describe("policies", () => {
  const firehose = firehoseRolePolicy({ streamArn: STREAM, bucketArn: BUCKET, keyArn: KEY, logStreamArn: LOG_STREAM, region: REGION });

  describe("Firehose role", () => {
    it("is assumable by Firehose only, with the account id as external id (as AWS documents for Firehose)", () => {
      const trust = firehoseAssumeRolePolicy(ACCOUNT);
      assert.strictEqual(trust.Statement.length, 1);
      const [s] = trust.Statement;
      assert.deepStrictEqual(s.Principal, { Service: "firehose.amazonaws.com" });
      assert.strictEqual(s.Action, "sts:AssumeRole");
      assert.deepStrictEqual(s.Condition, { StringEquals: { "sts:ExternalId": ACCOUNT } });
    });

    it("reads only this stream, with exactly the read actions", () => {
      const s = bySid(firehose, "ReadSourceStream");
      assert.deepStrictEqual(asList(s.Resource), [STREAM]);
      assert.deepStrictEqual(
        [...asList(s.Action)].sort(),
        [
          "kinesis:DescribeStream",
          "kinesis:DescribeStreamSummary",
          "kinesis:GetRecords",
          "kinesis:GetShardIterator",
          "kinesis:ListShards",
        ],
      );
    });

    it("writes only this bucket and its objects", () => {
      const s = bySid(firehose, "WriteDestinationBucket");
      assert.deepStrictEqual(asList(s.Resource), [BUCKET, `${BUCKET}/*`]);
      assert.ok(asList(s.Action).includes("s3:PutObject"));
      assert.ok(!asList(s.Action).some((a) => a.startsWith("s3:Delete")), "Firehose needs no delete");
    });

    it("uses the layer key only through Kinesis for this stream and through S3 for this bucket", () => {
      const decrypt = bySid(firehose, "DecryptSourceStream");
      assert.deepStrictEqual(asList(decrypt.Resource), [KEY]);
      assert.deepStrictEqual(decrypt.Condition?.StringEquals, { "kms:ViaService": `kinesis.${REGION}.amazonaws.com` });
      assert.deepStrictEqual(decrypt.Condition?.StringLike, { "kms:EncryptionContext:aws:kinesis:arn": STREAM });

      const encrypt = bySid(firehose, "EncryptDestinationObjects");
      assert.deepStrictEqual(asList(encrypt.Resource), [KEY]);
      assert.deepStrictEqual([...asList(encrypt.Action)].sort(), ["kms:Decrypt", "kms:GenerateDataKey"]);
      assert.deepStrictEqual(encrypt.Condition?.StringEquals, { "kms:ViaService": `s3.${REGION}.amazonaws.com` });
      assert.deepStrictEqual(encrypt.Condition?.StringLike, { "kms:EncryptionContext:aws:s3:arn": [BUCKET, `${BUCKET}/*`] });
    });

    it("logs only to its own log stream", () => {
      const s = bySid(firehose, "ReportDeliveryErrors");
      assert.deepStrictEqual(asList(s.Action), ["logs:PutLogEvents"]);
      assert.deepStrictEqual(asList(s.Resource), [LOG_STREAM]);
    });

    it("names no resource but its own stream, bucket, key and log stream", () => {
      assert.deepStrictEqual(new Set(resourcesOf(firehose)), new Set([STREAM, BUCKET, `${BUCKET}/*`, KEY, LOG_STREAM]));
    });
  });

  describe("producer and consumer policies", () => {
    const producer = producerPolicy({ streamArn: STREAM, keyArn: KEY, region: REGION });
    const consumer = consumerPolicy({ streamArn: STREAM, keyArn: KEY, region: REGION });

    it("lets producers put records and encrypt them with the layer key via Kinesis only", () => {
      assert.deepStrictEqual(
        [...actionsOf(producer)].sort(),
        ["kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:PutRecord", "kinesis:PutRecords", "kms:GenerateDataKey"],
      );
      assert.deepStrictEqual(asList(bySid(producer, "PutRecords").Resource), [STREAM]);
      const kms = bySid(producer, "EncryptRecords");
      assert.deepStrictEqual(asList(kms.Resource), [KEY]);
      assert.strictEqual(kms.Condition?.StringEquals?.["kms:ViaService"], `kinesis.${REGION}.amazonaws.com`);
    });

    it("gives producers no read and consumers no write", () => {
      assert.ok(!actionsOf(producer).some((a) => /GetRecords|SubscribeToShard|kms:Decrypt/.test(a)));
      assert.ok(!actionsOf(consumer).some((a) => /PutRecord|GenerateDataKey/.test(a)));
    });

    it("lets consumers read by polling this stream, and nothing more (no fan-out, no consumer registration)", () => {
      const read = bySid(consumer, "ReadRecords");
      assert.deepStrictEqual(asList(read.Resource), [STREAM]);
      assert.deepStrictEqual(asList(read.Action).sort(), [
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
      ]);
      const kms = bySid(consumer, "DecryptRecords");
      assert.deepStrictEqual(asList(kms.Action), ["kms:Decrypt"]);
      assert.deepStrictEqual(asList(kms.Resource), [KEY]);
      assert.strictEqual(kms.Condition?.StringEquals?.["kms:ViaService"], `kinesis.${REGION}.amazonaws.com`);
    });
  });

  describe("fan-out consumer policy", () => {
    const CONSUMER = `${STREAM}/consumer/fraud-model:1700000000`;
    const p = fanOutConsumerPolicy({ streamArn: STREAM, consumerArn: CONSUMER, keyArn: KEY, region: REGION });

    it("grants shard discovery on the stream, subscribing through its own consumer, and decrypting via Kinesis: exactly", () => {
      assert.deepStrictEqual(
        p.Statement.map((s) => [s.Sid, asList(s.Action).sort(), asList(s.Resource)]),
        [
          ["FindShards", ["kinesis:DescribeStreamSummary", "kinesis:ListShards"], [STREAM]],
          ["SubscribeThroughOwnConsumer", ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"], [CONSUMER, STREAM]],
          ["DecryptRecords", ["kms:Decrypt"], [KEY]],
        ],
      );
      assert.deepStrictEqual(bySid(p, "DecryptRecords").Condition, {
        StringEquals: { "kms:ViaService": `kinesis.${REGION}.amazonaws.com` },
        StringLike: { "kms:EncryptionContext:aws:kinesis:arn": STREAM },
      });
      for (const never of ["kinesis:GetRecords", "kinesis:RegisterStreamConsumer", "kinesis:DeregisterStreamConsumer"]) {
        assert.ok(!actionsOf(p).includes(never), never);
      }
      assert.ok(!JSON.stringify(p).includes("consumer/*"), "names other consumers");
    });
  });

  describe("cross-account sharing", () => {
    const PRODUCER = "arn:aws:iam::111122223333:root";
    const READER = "arn:aws:iam::444455556666:role/reader";
    const READER_ACCOUNT = "arn:aws:iam::444455556666:root";
    const NEIGHBOUR = "arn:aws:iam::444455556666:role/someone-else";
    const ANY_PRODUCER_ROLE = "arn:aws:iam::111122223333:role/any";
    const READ = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"];
    const WRITE = ["kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:PutRecord", "kinesis:PutRecords"];
    /** Every principal a document names: only account principals, which always exist (issue 17.3). */
    const principalsOf = (d: PolicyDocument) => d.Statement.flatMap((s) => asList((s.Principal as { AWS?: string | string[] }).AWS));

    it("gives the stream a resource policy naming only its principals and the actions AWS allows to share", () => {
      const p = streamResourcePolicy({ streamArn: STREAM, producers: [PRODUCER], consumers: [READER] });
      assert.ok(p);
      assert.deepStrictEqual(
        p.Statement.map((s) => [s.Sid, s.Principal, asList(s.Action).sort(), s.Resource, s.Condition]),
        [
          ["SharedProducers", { AWS: [PRODUCER] }, WRITE, STREAM, undefined],
          ["SharedConsumerRoles", { AWS: [READER_ACCOUNT] }, READ, STREAM, { ArnEquals: { "aws:PrincipalArn": [READER] } }],
        ],
      );
      assert.strictEqual(streamResourcePolicy({ streamArn: STREAM }), undefined);
      assert.deepStrictEqual(findPolicyViolations(p), []);
    });

    it("lets a shared reader's Lambda event source mapping describe the stream (issue 17.2)", () => {
      // AWS: a cross-account Lambda event source mapping needs kinesis:DescribeStream in the stream's policy.
      const p = streamResourcePolicy({ streamArn: STREAM, consumers: [READER] })!;
      for (const action of READ) assert.ok(principalMayDo(p, READER, action), action);
    });

    it("grants a role by the account principal and aws:PrincipalArn, so a role created later does not break it (issue 17.3)", () => {
      const p = streamResourcePolicy({ streamArn: STREAM, producers: [PRODUCER], consumers: [READER] })!;
      assert.deepStrictEqual(principalsOf(p).filter((a) => !a.endsWith(":root")), [], "a role ARN as Principal must exist when the policy is set");
      assert.ok(principalMayDo(p, READER, "kinesis:GetRecords"));
      assert.ok(!principalMayDo(p, NEIGHBOUR, "kinesis:GetRecords"), "another role of the reader's account");
      assert.ok(!principalMayDo(p, READER, "kinesis:PutRecord"), "a reader does not write");
      assert.ok(principalMayDo(p, ANY_PRODUCER_ROLE, "kinesis:PutRecord"), "an account id shares with the whole account");
    });

    it("gives a registered consumer a resource policy for fan-out reads only", () => {
      const CONSUMER = `${STREAM}/consumer/fraud-model:1700000000`;
      const p = consumerResourcePolicy({ consumerArn: CONSUMER, consumers: [READER, PRODUCER] });
      for (const s of p.Statement) assert.deepStrictEqual(asList(s.Action).sort(), ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"]);
      for (const s of p.Statement) assert.strictEqual(s.Resource, CONSUMER);
      assert.deepStrictEqual(principalsOf(p).sort(), [PRODUCER, READER_ACCOUNT]);
      assert.ok(principalMayDo(p, READER, "kinesis:SubscribeToShard"));
      assert.ok(!principalMayDo(p, NEIGHBOUR, "kinesis:SubscribeToShard"));
      assert.ok(principalMayDo(p, ANY_PRODUCER_ROLE, "kinesis:SubscribeToShard"));
    });

    it("grants the shared principals the key through Kinesis, for that stream only", () => {
      const key = layerKeyPolicy({ accountId: ACCOUNT, region: REGION, shares: [{ streamArn: STREAM, producers: [PRODUCER], consumers: [READER] }] });
      const producers = key.Statement.find((s) => s.Sid?.startsWith("SharedProducers"));
      const consumers = key.Statement.find((s) => s.Sid?.startsWith("SharedConsumerRoles"));
      assert.deepStrictEqual([producers?.Principal, producers?.Action], [{ AWS: [PRODUCER] }, "kms:GenerateDataKey"]);
      assert.deepStrictEqual([consumers?.Principal, consumers?.Action], [{ AWS: [READER_ACCOUNT] }, "kms:Decrypt"]);
      const throughKinesis = { StringEquals: { "kms:ViaService": `kinesis.${REGION}.amazonaws.com` }, StringLike: { "kms:EncryptionContext:aws:kinesis:arn": STREAM } };
      assert.deepStrictEqual(producers?.Condition, throughKinesis);
      assert.deepStrictEqual(consumers?.Condition, { ...throughKinesis, ArnEquals: { "aws:PrincipalArn": [READER] } });
      assert.strictEqual(new Set(key.Statement.map((s) => s.Sid)).size, key.Statement.length, "Sids are unique");
      assert.deepStrictEqual(findPolicyViolations(key, { isKeyPolicy: true }), []);
    });

    it("names no role in the key policy, so a shared role that does not exist yet cannot fail the layer key (issue 17.3)", () => {
      const key = layerKeyPolicy({ accountId: ACCOUNT, region: REGION, shares: [{ streamArn: STREAM, producers: [PRODUCER], consumers: [READER] }] });
      // KMS: "The principals in the key policy must exist and be visible to KMS" (PutKeyPolicy, CreateKey).
      assert.deepStrictEqual(principalsOf(key).filter((a) => !a.endsWith(":root")), []);
      const via = { "kms:ViaService": `kinesis.${REGION}.amazonaws.com` };
      assert.ok(principalMayDo(key, READER, "kms:Decrypt", { ...via, "kms:EncryptionContext:aws:kinesis:arn": STREAM }));
      assert.ok(!principalMayDo(key, READER, "kms:Decrypt", { ...via, "kms:EncryptionContext:aws:kinesis:arn": OTHER_STREAM }), "another stream");
      assert.ok(!principalMayDo(key, READER, "kms:Decrypt", { "kms:EncryptionContext:aws:kinesis:arn": STREAM }), "not through Kinesis");
      assert.ok(!principalMayDo(key, NEIGHBOUR, "kms:Decrypt", { ...via, "kms:EncryptionContext:aws:kinesis:arn": STREAM }), "another role of the account");
      assert.ok(!principalMayDo(key, READER, "kms:GenerateDataKey", { ...via, "kms:EncryptionContext:aws:kinesis:arn": STREAM }), "a reader does not write");
      assert.ok(principalMayDo(key, ANY_PRODUCER_ROLE, "kms:GenerateDataKey", { ...via, "kms:EncryptionContext:aws:kinesis:arn": STREAM }));
    });

    it("keeps accounts and roles of the same share apart: an account id grants the account, a role only itself", () => {
      const both = streamResourcePolicy({ streamArn: STREAM, consumers: ["arn:aws:iam::111122223333:role/a", "arn:aws:iam::444455556666:role/b", PRODUCER] })!;
      assert.deepStrictEqual(
        both.Statement.map((s) => [s.Sid, s.Principal, s.Condition]),
        [
          ["SharedConsumers", { AWS: [PRODUCER] }, undefined],
          ["SharedConsumerRoles", { AWS: [PRODUCER, READER_ACCOUNT] }, { ArnEquals: { "aws:PrincipalArn": ["arn:aws:iam::111122223333:role/a", "arn:aws:iam::444455556666:role/b"] } }],
        ],
      );
    });
  });

  describe("partition", () => {
    it("derives kms:ViaService and the CloudWatch Logs principal from the partition's DNS suffix", () => {
      assert.strictEqual(viaService("kinesis", "cn-north-1", "amazonaws.com.cn"), "kinesis.cn-north-1.amazonaws.com.cn");
      const key = layerKeyPolicy({
        accountId: ACCOUNT,
        region: "cn-north-1",
        partition: "aws-cn",
        dnsSuffix: "amazonaws.com.cn",
        logGroups: { prefix: "/aws/kinesisfirehose/lake-ingest-", except: [] },
      });
      assert.deepStrictEqual(bySid(key, "AllowFirehoseLogGroupsOfThisLayer").Principal, { Service: "logs.cn-north-1.amazonaws.com.cn" });
      const producer = producerPolicy({ streamArn: STREAM, keyArn: KEY, region: "cn-north-1", dnsSuffix: "amazonaws.com.cn" });
      assert.strictEqual(bySid(producer, "EncryptRecords").Condition?.StringEquals?.["kms:ViaService"], "kinesis.cn-north-1.amazonaws.com.cn");
      const f = firehoseRolePolicy({ streamArn: STREAM, bucketArn: BUCKET, keyArn: KEY, logStreamArn: LOG_STREAM, region: "cn-north-1", dnsSuffix: "amazonaws.com.cn" });
      assert.ok(!JSON.stringify(f).includes('.amazonaws.com"'), JSON.stringify(f));
      const route = routeRolePolicy({ ...ROUTE_ARGS, region: "cn-north-1", dnsSuffix: "amazonaws.com.cn" });
      assert.ok(!JSON.stringify(route).includes('.amazonaws.com"'), JSON.stringify(route));
    });
  });

  describe("layer key policy", () => {
    const layerLogs = { prefix: "/aws/kinesisfirehose/lake-ingest-", except: ["/aws/kinesisfirehose/lake-ingest-raw-"] };
    const key = layerKeyPolicy({ accountId: ACCOUNT, region: REGION, logGroups: layerLogs });

    it("delegates to IAM in this account: kms:* for the account root, nobody else", () => {
      const root = bySid(key, "EnableIamPoliciesOfThisAccount");
      assert.deepStrictEqual(root.Principal, { AWS: `arn:aws:iam::${ACCOUNT}:root` });
      assert.strictEqual(root.Action, "kms:*");
      const others = key.Statement.filter((s) => s !== root);
      assert.ok(!others.some((s) => asList(s.Action).includes("kms:*")));
    });

    it("lets CloudWatch Logs use the key for this layer's log-group name space, minus the layers that extend its name", () => {
      const logs = bySid(key, "AllowFirehoseLogGroupsOfThisLayer");
      assert.deepStrictEqual(logs.Principal, { Service: `logs.${REGION}.amazonaws.com` });
      assert.deepStrictEqual(logs.Condition, {
        ArnLike: { "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/kinesisfirehose/lake-ingest-*` },
        ArnNotLike: { "kms:EncryptionContext:aws:logs:arn": [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/kinesisfirehose/lake-ingest-raw-*`] },
      });
    });

    it("stays the same size however many segments the layer has, far below KMS's 32 KB", () => {
      assert.ok(JSON.stringify(key).length < KEY_POLICY_MAX_BYTES / 16);
      assert.strictEqual(KEY_POLICY_MAX_BYTES, 32768);
    });

    it("does not depend on the order of listed log groups or other layers", () => {
      const groups = ["/aws/lambda/b", "/aws/lambda/a"];
      const a = layerKeyPolicy({ accountId: ACCOUNT, region: REGION, logGroupNames: groups, logGroups: { prefix: "p-", except: ["p-x-", "p-y-"] } });
      const b = layerKeyPolicy({ accountId: ACCOUNT, region: REGION, logGroupNames: [...groups].reverse(), logGroups: { prefix: "p-", except: ["p-y-", "p-x-"] } });
      assert.deepStrictEqual(a, b);
    });

    it("uses the partition it is given", () => {
      const cn = layerKeyPolicy({ accountId: ACCOUNT, region: "cn-north-1", partition: "aws-cn", logGroups: layerLogs });
      assert.deepStrictEqual(bySid(cn, "EnableIamPoliciesOfThisAccount").Principal, { AWS: `arn:aws-cn:iam::${ACCOUNT}:root` });
      assert.ok(JSON.stringify(cn).includes("arn:aws-cn:logs:cn-north-1:"));
    });
  });

  describe("bucket policy", () => {
    it("denies every request without TLS on the bucket and its objects", () => {
      const p = tlsOnlyBucketPolicy(BUCKET);
      assert.strictEqual(p.Statement.length, 1);
      const [s] = p.Statement;
      assert.strictEqual(s.Effect, "Deny");
      assert.strictEqual(s.Principal, "*");
      assert.strictEqual(s.Action, "s3:*");
      assert.deepStrictEqual(asList(s.Resource), [BUCKET, `${BUCKET}/*`]);
      assert.deepStrictEqual(s.Condition, { Bool: { "aws:SecureTransport": "false" } });
    });
  });

  describe("route role", () => {
    const CONSUMER = `${STREAM}/consumer/lake-r:1700000000`;
    const QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:lake-r-dlq`;
    const LOGS = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/lake-r`;
    const route = routeRolePolicy(ROUTE_ARGS);

    it("is assumable by Lambda only, on behalf of this account only", () => {
      const [s] = routeAssumeRolePolicy(ACCOUNT).Statement;
      assert.deepStrictEqual(s.Principal, { Service: "lambda.amazonaws.com" });
      assert.deepStrictEqual(s.Condition, { StringEquals: { "aws:SourceAccount": ACCOUNT } });
    });

    it("reads the source, writes the target, and decrypts/encrypts with the matching layer keys via Kinesis", () => {
      assert.deepStrictEqual(asList(bySid(route, "ReadSourceStream").Resource), [STREAM]);
      assert.ok(!asList(bySid(route, "ReadSourceStream").Action).some((a) => a.startsWith("kinesis:Put")));
      assert.deepStrictEqual(asList(bySid(route, "WriteTargetStream").Resource), [OTHER_STREAM]);
      assert.ok(asList(bySid(route, "WriteTargetStream").Action).includes("kinesis:PutRecord"));
      const decrypt = bySid(route, "DecryptSourceStream");
      assert.deepStrictEqual([asList(decrypt.Action), asList(decrypt.Resource)], [["kms:Decrypt"], [KEY]]);
      assert.strictEqual(decrypt.Condition?.StringEquals?.["kms:ViaService"], `kinesis.${REGION}.amazonaws.com`);
      const encrypt = bySid(route, "EncryptTargetStream");
      assert.deepStrictEqual([asList(encrypt.Action), asList(encrypt.Resource)], [["kms:GenerateDataKey"], [OTHER_KEY]]);
      assert.strictEqual(encrypt.Condition?.StringEquals?.["kms:ViaService"], `kinesis.${REGION}.amazonaws.com`);
    });

    it("subscribes only through its own consumer, sends only to its own queue, logs only to its own log group", () => {
      assert.deepStrictEqual(asList(bySid(route, "ReadSourceThroughConsumer").Resource), [CONSUMER]);
      assert.ok(asList(bySid(route, "ReadSourceThroughConsumer").Action).includes("kinesis:SubscribeToShard"));
      assert.deepStrictEqual([asList(bySid(route, "SendToOwnDeadLetterQueue").Action), asList(bySid(route, "SendToOwnDeadLetterQueue").Resource)], [["sqs:SendMessage"], [QUEUE]]);
      const dlqKey = bySid(route, "EncryptDeadLetters");
      assert.deepStrictEqual(asList(dlqKey.Resource), [OTHER_KEY]);
      assert.strictEqual(dlqKey.Condition?.StringEquals?.["kms:ViaService"], `sqs.${REGION}.amazonaws.com`);
      assert.deepStrictEqual(asList(bySid(route, "WriteOwnLogGroup").Resource), [`${LOGS}:*`]);
    });
  });

  describe("every document follows the rules", () => {
    const documents: [string, PolicyDocument, boolean][] = [
      ["firehose trust", firehoseAssumeRolePolicy(ACCOUNT), false],
      ["firehose role", firehose, false],
      ["producer", producerPolicy({ streamArn: STREAM, keyArn: KEY, region: REGION }), false],
      ["consumer", consumerPolicy({ streamArn: STREAM, keyArn: KEY, region: REGION }), false],
      ["key", layerKeyPolicy({ accountId: ACCOUNT, region: REGION, logGroupNames: ["/aws/kinesisfirehose/x"] }), true],
      ["layer key", layerKeyPolicy({ accountId: ACCOUNT, region: REGION, logGroups: { prefix: "/aws/kinesisfirehose/x-", except: [] } }), true],
      ["fan-out consumer", fanOutConsumerPolicy({ streamArn: STREAM, consumerArn: `${STREAM}/consumer/c:1`, keyArn: KEY, region: REGION }), false],
      ["bucket", tlsOnlyBucketPolicy(BUCKET), false],
      ["route trust", routeAssumeRolePolicy(ACCOUNT), false],
      ["route role", routeRolePolicy(ROUTE_ARGS), false],
    ];
    for (const [what, document, isKeyPolicy] of documents) {
      it(`${what}: no violations`, () => {
        assert.deepStrictEqual(findPolicyViolations(document, { isKeyPolicy }), []);
      });
    }
  });
});

describe("findPolicyViolations", () => {
  const allow = (s: Partial<PolicyStatement>): PolicyDocument => ({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "kinesis:GetRecords", Resource: STREAM, ...s }],
  });
  const rules = (doc: PolicyDocument | string, isKeyPolicy = false) => findPolicyViolations(doc, { isKeyPolicy }).map((v) => v.rule);

  it("accepts a least-privilege statement", () => {
    assert.deepStrictEqual(rules(allow({})), []);
  });

  it("catches a service wildcard action (s3:*)", () => {
    assert.deepStrictEqual(rules(allow({ Action: ["s3:GetObject", "s3:*"], Resource: BUCKET })), ["wildcard-action"]);
  });

  it("catches the action *", () => {
    assert.deepStrictEqual(rules(allow({ Action: "*" })), ["wildcard-action"]);
  });

  it("catches a partial wildcard action (kms:GenerateDataKey*)", () => {
    assert.deepStrictEqual(rules(allow({ Action: "kms:GenerateDataKey*", Resource: KEY })), ["wildcard-action"]);
  });

  it('catches Resource "*" in an Allow, as a string or in a list', () => {
    assert.deepStrictEqual(rules(allow({ Resource: "*" })), ["wildcard-resource"]);
    assert.deepStrictEqual(rules(allow({ Resource: [STREAM, "*"] })), ["wildcard-resource"]);
  });

  it("catches a wildcard hidden in an ARN's account or region", () => {
    assert.deepStrictEqual(rules(allow({ Resource: "arn:aws:kinesis:*:*:stream/x" })), ["wildcard-arn"]);
  });

  it("catches NotAction / NotResource in an Allow", () => {
    assert.deepStrictEqual(rules(allow({ Action: undefined, NotAction: "iam:PassRole" })), ["not-action-or-resource"]);
    assert.deepStrictEqual(rules(allow({ Resource: undefined, NotResource: STREAM })), ["not-action-or-resource"]);
  });

  it("catches an Allow to the public", () => {
    assert.deepStrictEqual(rules(allow({ Principal: "*" })), ["public-principal"]);
    assert.deepStrictEqual(rules(allow({ Principal: { AWS: "*" } })), ["public-principal"]);
  });

  it("catches a wrong Version and an empty document", () => {
    assert.deepStrictEqual(rules({ Version: "2008-10-17", Statement: allow({}).Statement } as unknown as PolicyDocument), ["version"]);
    assert.deepStrictEqual(rules({ Version: "2012-10-17", Statement: [] }), ["no-statements"]);
  });

  it("allows kms:* and Resource * only in a key policy, and kms:* only for the account root", () => {
    const rootAdmin = allow({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" });
    assert.deepStrictEqual(rules(rootAdmin, true), []);
    assert.deepStrictEqual(rules(rootAdmin, false), ["wildcard-action", "wildcard-resource"]);
    const roleAdmin = allow({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/admin` }, Action: "kms:*", Resource: "*" });
    assert.deepStrictEqual(rules(roleAdmin, true), ["key-admin-not-root"]);
    const s3InKeyPolicy = allow({ Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "s3:*", Resource: "*" });
    assert.deepStrictEqual(rules(s3InKeyPolicy, true), ["wildcard-action"]);
  });

  it("lets Deny statements use wildcards (they only take access away)", () => {
    const deny: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Deny", Principal: "*", Action: "*", Resource: "*" }] };
    assert.deepStrictEqual(rules(deny), []);
  });

  it("reads documents given as JSON strings, as resources carry them", () => {
    assert.deepStrictEqual(rules(JSON.stringify(allow({ Action: "s3:*" }))), ["wildcard-action"]);
  });

  it("reports every violation with its statement", () => {
    const doc: PolicyDocument = {
      Version: "2012-10-17",
      Statement: [
        { Sid: "Ok", Effect: "Allow", Action: "kinesis:GetRecords", Resource: STREAM },
        { Sid: "Bad", Effect: "Allow", Action: "s3:*", Resource: "*" },
      ],
    };
    const found = findPolicyViolations(doc);
    assert.deepStrictEqual(
      found.map((v) => [v.statement, v.sid, v.rule]),
      [
        [1, "Bad", "wildcard-action"],
        [1, "Bad", "wildcard-resource"],
      ],
    );
  });
});

describe("route filter translation", () => {
  const filter = { age: [{ numeric: [">=", 18] }] };

  it("puts the record's fields under data, where Lambda filters a Kinesis record's JSON", () => {
    assert.deepStrictEqual(JSON.parse(routeFilterPattern(filter)), { data: { age: [{ numeric: [">=", 18] }] } });
  });

  it("gives one filter with that pattern, or none when the route has no filter", () => {
    assert.deepStrictEqual(routeFilterCriteria(filter), { filters: [{ pattern: '{"data":{"age":[{"numeric":[">=",18]}]}}' }] });
    assert.strictEqual(routeFilterCriteria(undefined), undefined);
  });

  it("keeps nested patterns nested", () => {
    const nested = { address: { country: ["NL", "BE"] }, name: [{ prefix: "d" }] };
    assert.deepStrictEqual(JSON.parse(routeFilterCriteria(nested)!.filters[0].pattern), { data: nested });
  });

  it("rejects a pattern longer than Lambda accepts", () => {
    const huge = { name: Array.from({ length: FILTER_PATTERN_MAX_LENGTH }, (_, i) => `n${i}`) };
    assert.throws(() => routeFilterCriteria(huge), /over Lambda's limit of 4096/);
  });

  it("locally drops records that are not JSON when the route filters, as Lambda does, and passes everything without a filter", () => {
    const bytes = (t: string) => Buffer.from(t, "utf8");
    assert.strictEqual(recordPassesFilter(filter, bytes('{"age":18}\n')), true);
    assert.strictEqual(recordPassesFilter(filter, bytes('{"age":17}\n')), false);
    assert.strictEqual(recordPassesFilter(filter, bytes("age=40")), false);
    assert.strictEqual(recordPassesFilter(undefined, bytes("age=40")), true);
  });
});
