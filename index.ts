/**
 * The data lake stack: reads the topology from `datalake:lake` and declares the lake it describes.
 * See components/ for what each part creates and README.md for the config reference.
 */
import * as pulumi from "@pulumi/pulumi";
import { DataLake } from "./components/lake";
import { readStackLakeConfig } from "./components/stack-config";

const config = readStackLakeConfig();
// The backup region's provider does not read the stack's aws:* config: pass the profile on.
const lake = new DataLake(config.name, { ...config, backupProvider: { profile: new pulumi.Config("aws").get("profile") } });

export const lakeName = lake.lakeName;
export const catalog = lake.catalog;
export const alarmTopicArn = lake.alarmTopicArn;
export const dashboardName = lake.dashboardName;
export const dashboardNames = lake.dashboardNames;
