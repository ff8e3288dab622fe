/** The topology's config key, its enumerations, the defaults it applies and the ranges it accepts. */

/** The config key the topology lives under. */
export const CONFIG_KEY = "datalake:lake";

export const COMPRESSION_FORMATS = ["UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"] as const;
export type CompressionFormat = (typeof COMPRESSION_FORMATS)[number];

export const CAPACITY_MODES = ["provisioned", "on-demand"] as const;
export type CapacityMode = (typeof CAPACITY_MODES)[number];

/** Defaults applied to every segment that does not set the key. */
export const DEFAULTS = {
  mode: "provisioned" as CapacityMode,
  shards: 1,
  /** Kinesis' own minimum and default retention. */
  retentionHours: 24,
  /** Firehose waits up to 5 minutes ... */
  bufferSeconds: 300,
  /** ... or 64 MiB, whichever comes first: fewer, larger objects suit a data lake's query engines. */
  bufferMiB: 64,
  compression: "GZIP" as CompressionFormat,
};

/** Alarm defaults (issue 10); see model/alarms.ts for what each alarm watches. */
export const ALARM_DEFAULTS = {
  enabled: true,
  /** Consumer lag alarm: the oldest unread record reached this share of the retention (data expires at 100%). */
  iteratorAgePercentOfRetention: 50,
  /** Wire-tap freshness alarm: the buffer interval plus this margin. */
  freshnessMarginSeconds: 300,
};

/** Backup defaults (issue 20); see components/replica.ts for what a backup is. */
export const BACKUP_DEFAULTS = {
  /** Days each replicated object version stays locked (S3 Object Lock, compliance mode) from when it was written. */
  objectLockDays: 30,
  /** S3 Replication Time Control (a 15-minute SLA, billed per GB replicated) is off: README "Backup and recovery". */
  timeControl: false,
};

/** AWS ranges enforced here instead of at deploy time. */
export const RANGES = {
  shards: { min: 1, max: 4096 },
  retentionHours: { min: 24, max: 8760 },
  bufferSeconds: { min: 0, max: 900 },
  bufferMiB: { min: 1, max: 128 },
  iteratorAgePercentOfRetention: { min: 1, max: 99 },
  freshnessMarginSeconds: { min: 60, max: 86400 },
  /** S3 Object Lock default retention in days: at least 1, at most 100 years. */
  objectLockDays: { min: 1, max: 36500 },
};
