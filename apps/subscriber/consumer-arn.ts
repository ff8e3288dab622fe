/**
 * Finds the ARN of a registered enhanced fan-out consumer by name, for `subscribe --consumer NAME` and the
 * library's `consume({ consumer })`: from the catalog when it names it, else DescribeStreamConsumer.
 */
import { DescribeStreamConsumerCommand } from "@aws-sdk/client-kinesis";
import { UserError } from "../../runtime/errors";
import type { Target } from "../lib/target";

/** The ARN of the consumer registered on the target stream under `name` (it must be ACTIVE). */
export async function consumerArn(target: Pick<Target, "client" | "streamName" | "entry" | "identity">, name: string): Promise<string> {
  // A deployed lake's catalog names the consumer's ARN: the fan-out consumer policy grants
  // SubscribeToShard on exactly that ARN, so no lookup (and no extra permission question) is needed.
  const fromCatalog = target.entry?.consumers?.[name]?.consumerArn;
  if (fromCatalog) return fromCatalog;
  const streamArn = target.identity?.streamArn;
  if (!streamArn) throw new UserError(`--consumer ${name}: the endpoint did not report the stream's ARN`);
  try {
    const out = await target.client.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: name }));
    const consumer = out.ConsumerDescription;
    if (consumer?.ConsumerStatus !== "ACTIVE" || !consumer.ConsumerARN) {
      throw new UserError(`--consumer ${name} is ${consumer?.ConsumerStatus ?? "not ready"} on stream ${target.streamName}; try again once it is ACTIVE`);
    }
    return consumer.ConsumerARN;
  } catch (err) {
    if ((err as Error).name === "ResourceNotFoundException") {
      throw new UserError(
        `--consumer ${name} is not registered on stream ${target.streamName}; declare it in the config (consumers: [${name}]) and ` +
          "run pulumi up (the local lake registers declared consumers), or read without --consumer",
      );
    }
    throw err;
  }
}
