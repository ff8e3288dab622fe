/**
 * The lake topology (`datalake:lake` in `Pulumi.<stack>.yaml`): its schema, its defaults, and the checks
 * that run before any resource is declared. Pure: no Pulumi, no AWS, so the apps and tests use it as is.
 */

export { ALARM_DEFAULTS, BACKUP_DEFAULTS, CAPACITY_MODES, COMPRESSION_FORMATS, CONFIG_KEY, DEFAULTS, RANGES } from "./config/defaults";
export type { CapacityMode, CompressionFormat } from "./config/defaults";
export type { AlarmsConfig, AlertsConfig, BackupConfig, LakeConfig, LayerConfig, RouteConfig, SegmentConfig, WireTapConfig } from "./config/types";
export { configPath, formatProblems, LakeConfigError } from "./config/problems";
export type { ConfigProblem } from "./config/problems";
export { defaultLakeName, parseLakeConfig } from "./config/parse";
export type { ParseContext } from "./config/parse";
