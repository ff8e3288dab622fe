/**
 * The Lambda entry point of every processor (bundled by components/processor-package.ts): wires the
 * pure handler to the AWS SDK. The route's spec is baked into the package as `spec.json`; the target
 * stream and the dead-letter queue come from the function's environment.
 *
 * Environment: TARGET_STREAM_NAME, DEAD_LETTER_QUEUE_URL.
 */
import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import * as fs from "fs";
import * as path from "path";
import { DeadLetterMessage, deadLetterBody } from "../../model/processor/dead-letter";
import { createHandler, ProcessorEvent, ProcessorResponse } from "../../model/processor/handler";
import { batchMetricsLine } from "../../model/processor/metrics";
import { ProcessorSpec } from "../../model/processor/spec";

// Every call has a deadline: connect 2 s, answer 5 s, and the SDK tries twice: at most ~14 s per call,
// so the handler's 4 PutRecords attempts for one request fit in the function's timeout (components/route.ts).
const requestHandler = () => new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 5_000 });

let handler: ((event: ProcessorEvent) => Promise<ProcessorResponse>) | undefined;

function build(): (event: ProcessorEvent) => Promise<ProcessorResponse> {
  const spec = JSON.parse(fs.readFileSync(path.join(__dirname, "spec.json"), "utf8")) as ProcessorSpec;
  const streamName = process.env.TARGET_STREAM_NAME;
  const queueUrl = process.env.DEAD_LETTER_QUEUE_URL;
  if (!streamName) throw new Error("TARGET_STREAM_NAME is not set");
  const kinesis = new KinesisClient({ requestHandler: requestHandler(), maxAttempts: 2 });
  const sqs = new SQSClient({ requestHandler: requestHandler(), maxAttempts: 2 });
  return createHandler({
    spec,
    putRecords: async (records) => {
      const out = await kinesis.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: records.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey, ExplicitHashKey: r.explicitHashKey })),
        }),
      );
      return (out.Records ?? []).map((r) => ({ errorCode: r.ErrorCode, errorMessage: r.ErrorMessage }));
    },
    deadLetter: queueUrl
      ? async (message: DeadLetterMessage) => {
          // The handler cuts messages to fit (fitDeadLetter); one still over the queue's limit is refused here, as SQS would.
          await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: deadLetterBody(message) }));
        }
      : undefined,
  });
}

export async function handle(event: ProcessorEvent): Promise<ProcessorResponse> {
  handler ??= build();
  const response = await handler(event);
  // One EMF line per batch (metrics.ts): failed records are invisible to Lambda's own Errors metric.
  process.stdout.write(batchMetricsLine({ functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? "", records: event.Records.length, failedRecords: response.batchItemFailures.length, timestamp: Date.now() }));
  return response;
}
