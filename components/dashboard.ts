/**
 * The lake's CloudWatch dashboard: one band per layer, one row per segment and processor. The body is
 * built by `dashboardBody` in model/dashboard.ts.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ProcessorMetricNames } from "../model/alarms";
import { alertsNames } from "../model/alarms-topic";
import { LakeConfig } from "../model/config";
import { dashboardBody } from "../model/dashboard";

export interface DataDashboardArgs {
  /** The parsed topology. */
  config: LakeConfig;
  /** The region the lake's metrics live in (every graph names it). */
  region: pulumi.Input<string>;
  /** The lake's processors and their physical names. @default [] */
  processors?: ProcessorMetricNames[];
}

export class DataDashboard extends pulumi.ComponentResource {
  readonly dashboardName: pulumi.Output<string>;

  constructor(name: string, args: DataDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:Dashboard", name, {}, opts);
    const dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: alertsNames(args.config.name).dashboardName,
        dashboardBody: pulumi
          .output(args.region)
          .apply((region) => JSON.stringify(dashboardBody(args.config, region, args.processors ?? []))),
      },
      { parent: this },
    );
    this.dashboardName = dashboard.dashboardName;
    this.registerOutputs({ dashboardName: this.dashboardName });
  }
}
