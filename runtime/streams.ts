/**
 * Small stream-administration helpers shared by the local lake, the demo and the tests.
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ResourceInUseException,
  StreamMode,
} from "@aws-sdk/client-kinesis";

export interface StreamSpec {
  name: string;
  /** Provisioned shard count; undefined creates an on-demand stream. */
  shards?: number;
}

/** Waits until the stream is ACTIVE (creating, updating or resharding streams cannot be written to). */
export async function waitForActive(client: KinesisClient, streamName: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (out.StreamDescriptionSummary?.StreamStatus === "ACTIVE") return;
    if (Date.now() > deadline) throw new Error(`stream ${streamName} did not become ACTIVE within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Creates the stream unless it exists, then waits until it is ACTIVE. */
export async function ensureStream(client: KinesisClient, spec: StreamSpec): Promise<void> {
  try {
    await client.send(
      new CreateStreamCommand(
        spec.shards === undefined
          ? { StreamName: spec.name, StreamModeDetails: { StreamMode: StreamMode.ON_DEMAND } }
          : { StreamName: spec.name, ShardCount: spec.shards },
      ),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  await waitForActive(client, spec.name);
}

/** What tells one stream from a later one of the same name: its ARN and creation time. */
export interface StreamIdentity {
  streamArn: string;
  createdAt: Date;
}
