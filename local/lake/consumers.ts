/** The segments' registered (enhanced fan-out) consumers in the local lake's streams (local/lake.ts). */
import { DescribeStreamConsumerCommand, KinesisClient, RegisterStreamConsumerCommand, ResourceInUseException } from "@aws-sdk/client-kinesis";
import { SegmentConfig } from "../../model/config";

/** Registers the segment's enhanced fan-out consumers (under the names the config gives, as on AWS) and waits until they are ACTIVE. */
export async function registerConsumers(client: KinesisClient, streamArn: string, names: string[]): Promise<Map<string, string>> {
  const arns = new Map<string, string>();
  for (const name of names) {
    try {
      await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: name }));
    } catch (err) {
      if (!(err instanceof ResourceInUseException) && (err as Error).name !== "ResourceInUseException") throw err;
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const out = await client.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: name }));
      if (out.ConsumerDescription?.ConsumerStatus === "ACTIVE") {
        if (out.ConsumerDescription.ConsumerARN) arns.set(name, out.ConsumerDescription.ConsumerARN);
        break;
      }
      if (Date.now() > deadline) throw new Error(`consumer ${name} of ${streamArn} did not become ACTIVE within 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return arns;
}

export function consumersOf(segment: SegmentConfig): string[] {
  return (segment as SegmentConfig & { consumers?: string[] }).consumers ?? [];
}
