/**
 * The CloudWatch alarms of one segment or one processor, all notifying the lake's alarm topic. What each
 * alarm watches is decided in model/alarms.ts; this component only declares them.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AlarmDefinition } from "../model/alarms";
import { lakeTags, Tags } from "./tags";

/** Alarms whose dimensions carry the account id (bucket names): declared from the definitions `build` gives for it. */
export interface AccountAlarms {
  accountId: pulumi.Input<string>;
  /** The same alarms (ids, count) for any account id; only dimension values and descriptions may differ. */
  build: (accountId: string) => AlarmDefinition[];
}

export interface DataAlarmsArgs {
  /** The alarms to declare (`segmentAlarms(...)`, `processorAlarms(...)`, or per account id); none declares nothing. */
  alarms: AlarmDefinition[] | AccountAlarms;
  /** The lake's alarm topic: notified when an alarm fires and when it recovers. */
  topicArn: pulumi.Input<string>;
  /** Where the alarms belong, for their tags. */
  where: { lake: string; layer?: string; segment?: string; route?: string };
  /** Extra tags for every alarm; the lake's own `datalake:*` tags are always added. @default {} */
  tags?: Tags;
}

export class DataAlarms extends pulumi.ComponentResource {
  /** Alarm names keyed by alarm id (`iterator-age`). */
  readonly alarmNames: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: DataAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:Alarms", name, {}, opts);
    const tags = lakeTags(args.where, args.tags);
    this.alarmNames = {};
    const perAccount = Array.isArray(args.alarms) ? undefined : args.alarms;
    // The alarms' shape is the same for every account id: declare them from a stand-in, take the account's values.
    const shape = perAccount ? perAccount.build("000000000000") : (args.alarms as AlarmDefinition[]);
    const actual = (i: number) =>
      perAccount ? pulumi.output(perAccount.accountId).apply((accountId) => perAccount.build(accountId)[i]) : pulumi.output(shape[i]);
    shape.forEach((a, i) => {
      const alarm = new aws.cloudwatch.MetricAlarm(
        `${name}-${a.id}`,
        {
          name: a.alarmName,
          alarmDescription: actual(i).apply((d) => d.description),
          namespace: a.namespace,
          metricName: a.metricName,
          dimensions: actual(i).apply((d) => d.dimensions),
          statistic: a.statistic,
          period: a.period,
          evaluationPeriods: a.evaluationPeriods,
          datapointsToAlarm: a.datapointsToAlarm,
          threshold: a.threshold,
          comparisonOperator: a.comparisonOperator,
          treatMissingData: a.treatMissingData,
          alarmActions: [args.topicArn],
          okActions: [args.topicArn],
          tags,
        },
        { parent: this },
      );
      this.alarmNames[a.id] = alarm.name;
    });
    this.registerOutputs({ alarmNames: this.alarmNames });
  }
}
