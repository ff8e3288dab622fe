/**
 * The lake's CloudWatch dashboards: one band per layer, one row per segment and processor. The bodies
 * are built by `dashboardBodies` in model/dashboard.ts: one dashboard named after the lake while the lake
 * fits CloudWatch's per-dashboard quotas (500 widgets, 2,500 metrics), then `<lake>-2`, `<lake>-3`, ...
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ProcessorMetricNames } from "../model/alarms";
import { alertsNames } from "../model/alarms-topic";
import { LakeConfig } from "../model/config";
import { dashboardBodies, dashboardNames } from "../model/dashboard";

export interface DataDashboardArgs {
  /** The parsed topology. */
  config: LakeConfig;
  /** The region the lake's metrics live in (every graph names it; the backup's graphs name the backup region). */
  region: pulumi.Input<string>;
  /** The account id: part of the bucket names in the backup's metrics. @default twelve zeros */
  accountId?: pulumi.Input<string>;
  /** The lake's processors and their physical names. @default [] */
  processors?: ProcessorMetricNames[];
}

export class DataDashboard extends pulumi.ComponentResource {
  /** The first (for most lakes the only) dashboard's name: the lake's. */
  readonly dashboardName: pulumi.Output<string>;
  /** Every dashboard's name, in order. */
  readonly dashboardNames: pulumi.Output<string[]>;

  constructor(name: string, args: DataDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:Dashboard", name, {}, opts);
    const processors = args.processors ?? [];
    // How many dashboards depends on the topology alone, so it is known before the region is.
    const count = dashboardBodies(args.config, "", processors).length;
    const bodies = pulumi
      .all([args.region, args.accountId ?? "000000000000"])
      .apply(([region, accountId]) => dashboardBodies(args.config, region, processors, undefined, accountId).map((b) => JSON.stringify(b)));
    const names = dashboardNames(alertsNames(args.config.name).dashboardName, count);
    const dashboards = names.map(
      (dashboardName, i) =>
        new aws.cloudwatch.Dashboard(
          // The first keeps the name it always had, so a lake that grows past one dashboard keeps it.
          i === 0 ? `${name}-dashboard` : `${name}-dashboard-${i + 1}`,
          { dashboardName, dashboardBody: bodies.apply((all) => all[i]) },
          { parent: this },
        ),
    );
    this.dashboardName = dashboards[0].dashboardName;
    this.dashboardNames = pulumi.all(dashboards.map((d) => d.dashboardName));
    this.registerOutputs({ dashboardName: this.dashboardName, dashboardNames: this.dashboardNames });
  }
}
