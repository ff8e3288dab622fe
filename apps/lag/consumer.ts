/**
 * Lag of an enhanced fan-out consumer on AWS. Kinesis keeps no position for such a consumer (only the
 * consumer knows where it is), so the only source is CloudWatch: `SubscribeToShardEvent.MillisBehindLatest`
 * in `AWS/Kinesis`, dimensions StreamName and ConsumerName, one value for the consumer over all shards.
 * Records behind are not published anywhere and are reported as unknown.
 */
import { CloudWatchClient, GetMetricStatisticsCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeStreamConsumerCommand, DescribeStreamSummaryCommand } from "@aws-sdk/client-kinesis";
import { UserError } from "../../runtime/errors";
import { KinesisSender } from "../../runtime/consumer/shards";

export interface ConsumerLag {
  consumer: string;
  status: string;
  /** Maximum of the metric over the window; undefined when CloudWatch has no data point. */
  millisBehind: number | undefined;
  /** The latest minute with a data point. */
  at: string | undefined;
  windowMinutes: number;
}

/** Anything with CloudWatchClient's `send` (the real client, or a stub in tests). */
export interface MetricsSender {
  send(command: GetMetricStatisticsCommand, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

export async function consumerLag(
  kinesis: KinesisSender,
  metrics: MetricsSender,
  streamName: string,
  consumer: string,
  opts: { windowMinutes?: number; now?: () => number; signal?: AbortSignal } = {},
): Promise<ConsumerLag> {
  const windowMinutes = opts.windowMinutes ?? 15;
  const now = opts.now ?? Date.now;
  const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }), { abortSignal: opts.signal });
  const streamArn: string = summary.StreamDescriptionSummary?.StreamARN;
  let status: string;
  try {
    const described = await kinesis.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumer }), {
      abortSignal: opts.signal,
    });
    status = described.ConsumerDescription?.ConsumerStatus ?? "UNKNOWN";
  } catch (err) {
    if ((err as Error).name === "ResourceNotFoundException") {
      throw new UserError(`--consumer ${consumer}: stream ${streamName} has no such enhanced fan-out consumer; check the segment's consumers in the config`);
    }
    throw err;
  }
  const end = new Date(now());
  const start = new Date(end.getTime() - windowMinutes * 60_000);
  const out = await metrics.send(
    new GetMetricStatisticsCommand({
      Namespace: "AWS/Kinesis",
      MetricName: "SubscribeToShardEvent.MillisBehindLatest",
      Dimensions: [
        { Name: "StreamName", Value: streamName },
        { Name: "ConsumerName", Value: consumer },
      ],
      StartTime: start,
      EndTime: end,
      Period: 60,
      Statistics: ["Maximum"],
    }),
    { abortSignal: opts.signal },
  );
  const points = [...(out.Datapoints ?? [])].sort((a: any, b: any) => new Date(a.Timestamp).getTime() - new Date(b.Timestamp).getTime());
  const last = points[points.length - 1];
  return {
    consumer,
    status,
    millisBehind: last?.Maximum,
    at: last ? new Date(last.Timestamp).toISOString() : undefined,
    windowMinutes,
  };
}

export function createMetricsClient(region: string | undefined): CloudWatchClient {
  return new CloudWatchClient({ region, maxAttempts: 3 });
}
