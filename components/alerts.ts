/**
 * The lake's alarm topic: one SNS topic per lake, encrypted with a customer-managed KMS key of its own
 * whose policy lets CloudWatch use it, a topic policy that lets only this lake's alarms publish, and an
 * optional e-mail subscription. Policies come from model/alarms-topic.ts.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { alertsKeyPolicy, alertsNames, alertsTopicPolicy } from "../model/alarms-topic";
import { KEY_DELETION_WINDOW_DAYS } from "./key-settings";
import { lakeTags, Tags } from "./tags";

export interface DataAlertsArgs {
  /** The lake's name: the prefix of every physical name. */
  lakeName: string;
  /** E-mail address to subscribe to the topic (the owner must confirm the subscription). @default none */
  email?: string;
  /** The AWS account the lake is deployed to. */
  accountId: pulumi.Input<string>;
  /** The AWS region the lake is deployed to (part of the alarm ARNs in the topic policy). */
  region: pulumi.Input<string>;
  /** The AWS partition. @default "aws" */
  partition?: pulumi.Input<string>;
  /** Extra tags for every taggable resource; the lake's own `datalake:*` tags are always added. @default {} */
  tags?: Tags;
}

export class DataAlerts extends pulumi.ComponentResource {
  readonly topicArn: pulumi.Output<string>;
  readonly topicName: pulumi.Output<string>;
  readonly keyArn: pulumi.Output<string>;

  constructor(name: string, args: DataAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:Alerts", name, {}, opts);
    const names = alertsNames(args.lakeName);
    const tags = lakeTags({ lake: args.lakeName }, args.tags);
    const partition = pulumi.output(args.partition ?? "aws");

    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `Data lake ${args.lakeName}: alarm notifications (SNS topic ${names.topicName})`,
        enableKeyRotation: true,
        deletionWindowInDays: KEY_DELETION_WINDOW_DAYS,
        policy: pulumi
          .all([args.accountId, partition])
          .apply(([accountId, p]) => JSON.stringify(alertsKeyPolicy({ accountId, partition: p }))),
        tags,
      },
      { parent: this },
    );
    new aws.kms.Alias(`${name}-key-alias`, { name: names.kmsAlias, targetKeyId: key.keyId }, { parent: this });

    const topic = new aws.sns.Topic(
      `${name}-topic`,
      { name: names.topicName, displayName: `${args.lakeName} alarms`, kmsMasterKeyId: key.arn, tags },
      { parent: this },
    );
    new aws.sns.TopicPolicy(
      `${name}-topic-policy`,
      {
        arn: topic.arn,
        policy: pulumi
          .all([topic.arn, args.accountId, args.region, partition])
          .apply(([topicArn, accountId, region, p]) =>
            JSON.stringify(alertsTopicPolicy({ topicArn, accountId, region, lakeName: args.lakeName, partition: p })),
          ),
      },
      { parent: this },
    );
    if (args.email !== undefined) {
      new aws.sns.TopicSubscription(
        `${name}-email`,
        { topic: topic.arn, protocol: "email", endpoint: args.email },
        { parent: this },
      );
    }

    this.topicArn = topic.arn;
    this.topicName = topic.name;
    this.keyArn = key.arn;
    this.registerOutputs({ topicArn: this.topicArn, topicName: this.topicName, keyArn: this.keyArn });
  }
}
