/** The S3 Replication alarms of one backed-up segment. */
import { BackupConfig, SegmentConfig } from "../config";
import { replicaNames, segmentNames } from "../naming";
import { ALARM_PERIOD_SECONDS, type AlarmDefinition, SUSTAINED_PERIODS } from "./definition";

/**
 * Replication latency (seconds) above which the latency alarm fires: S3 RTC's 15-minute objective when
 * Replication Time Control is on, otherwise an hour (S3 replicates most objects within minutes without an
 * SLA; an hour behind is well outside that and still inside a working day's recovery point).
 */
export const REPLICATION_LATENCY_ALARM_SECONDS = { timeControl: 900, standard: 3600 };

/** The replication metrics' dimensions of one backed-up segment. */
export function replicationDimensions(lakeName: string, segment: SegmentConfig, accountId: string): Record<string, string> {
  const replica = replicaNames(lakeName, segment.layer, segment.name, accountId);
  return {
    SourceBucket: segmentNames(lakeName, segment.layer, segment.name, accountId).bucketName,
    DestinationBucket: replica.bucketName,
    RuleId: replica.ruleId,
  };
}

/** A backed-up segment's replication alarms, by the region they live in (CloudWatch's region of their metric). */
export interface ReplicationAlarms {
  /** In the stack's region, where S3 publishes `OperationsFailedReplication`. */
  sourceRegion: AlarmDefinition[];
  /** In the backup region, where S3 publishes `ReplicationLatency` (an alarm watches metrics of its own region). */
  backupRegion: AlarmDefinition[];
}

/**
 * The replication alarms of one segment (none when it is not backed up or its alarms are off): objects S3
 * failed to replicate, and the backup falling behind.
 */
export function replicationAlarms(lakeName: string, segment: SegmentConfig, backup: BackupConfig | undefined, accountId: string): ReplicationAlarms {
  if (!backup || !segment.backup || !segment.alarms.enabled) return { sourceRegion: [], backupRegion: [] };
  const dimensions = replicationDimensions(lakeName, segment, accountId);
  const prefix = `${lakeName}-${segment.layer}-${segment.name}`;
  const where = `segment ${segment.address}`;
  const latency = backup.timeControl ? REPLICATION_LATENCY_ALARM_SECONDS.timeControl : REPLICATION_LATENCY_ALARM_SECONDS.standard;
  return {
    sourceRegion: [
      {
        id: "replication-failed",
        alarmName: `${prefix}-replication-failed`,
        description:
          `${where}: S3 failed to replicate objects of ${dimensions.SourceBucket} to its backup ${dimensions.DestinationBucket} ` +
          `(${backup.region}) in the last 5 minutes; those objects are not in the backup. Find them (replication status FAILED), fix the ` +
          `role, key or replica bucket, then replicate them again with S3 Batch Replication (docs/archive-and-backup.md, "Backup and recovery").`,
        namespace: "AWS/S3",
        metricName: "OperationsFailedReplication",
        dimensions,
        statistic: "Sum",
        period: ALARM_PERIOD_SECONDS,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        // AWS's advice for replication-metric alarms: missing data keeps the alarm's state (delivery is best effort).
        treatMissingData: "ignore",
        missingDataReason:
          "AWS advises treating missing replication metrics as ignore (keep the state): S3 publishes failed operations only while replication occurs, best effort, so a fired alarm stays until replication reports no failures",
      },
    ],
    backupRegion: [
      {
        id: "replication-latency",
        alarmName: `${prefix}-replication-latency`,
        description:
          `${where}: the backup ${dimensions.DestinationBucket} in ${backup.region} has been more than ${latency / 60} minutes behind ` +
          `${dimensions.SourceBucket} for 15 minutes in a row${backup.timeControl ? " (S3 Replication Time Control's 15-minute objective)" : ""}. ` +
          `A lost region now would lose that much of the archive: check the replication-failed alarm, the AWS Health dashboard and KMS throttling.`,
        namespace: "AWS/S3",
        metricName: "ReplicationLatency",
        dimensions,
        statistic: "Maximum",
        period: ALARM_PERIOD_SECONDS,
        evaluationPeriods: SUSTAINED_PERIODS,
        datapointsToAlarm: SUSTAINED_PERIODS,
        threshold: latency,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "ignore",
        missingDataReason:
          "AWS advises treating missing replication metrics as ignore (keep the state); a replica bucket that is gone shows as failed operations (still published when the destination bucket is deleted), and S3's first data points come some minutes after backup is switched on",
      },
    ],
  };
}
