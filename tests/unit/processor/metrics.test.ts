/**
 * Issue 17.4: the line a processor prints after each batch is a CloudWatch embedded metric format (EMF)
 * document counting the records it reported as failed, so an alarm sees partial batch failures, which
 * Lambda counts as successful invocations (its `Errors` stays 0).
 */
import * as assert from "assert";
import { createHandler } from "../../../model/processor/handler";
import { kinesisEvent } from "../../../model/processor/events";
import { batchMetricsLine, PROCESSOR_METRICS, PROCESSOR_METRICS_NAMESPACE } from "../../../model/processor/metrics";

type Directive = { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit?: string }[] };

/** The EMF specification's rules for one log event: what CloudWatch Logs needs to extract the metrics. */
function emfProblems(line: string): string[] {
  const out: string[] = [];
  if (!line.endsWith("\n") || line.indexOf("\n") !== line.length - 1) out.push("not exactly one line");
  let root: Record<string, unknown>;
  try {
    root = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return ["not JSON"];
  }
  if (!line.startsWith("{")) out.push("data before the JSON object");
  const aws = root._aws as { Timestamp?: unknown; CloudWatchMetrics?: Directive[] } | undefined;
  if (!aws || !Number.isInteger(aws.Timestamp)) out.push("_aws.Timestamp is not a whole number of milliseconds");
  if (!Array.isArray(aws?.CloudWatchMetrics) || aws.CloudWatchMetrics.length === 0) return [...out, "no CloudWatchMetrics"];
  for (const d of aws.CloudWatchMetrics) {
    if (typeof d.Namespace !== "string" || d.Namespace.length === 0 || d.Namespace.startsWith("AWS/")) out.push(`namespace ${d.Namespace}`);
    for (const set of d.Dimensions) {
      if (set.length > 30) out.push("more than 30 dimensions");
      for (const name of set) if (typeof root[name] !== "string") out.push(`dimension ${name} is not a string member of the root`);
    }
    if (d.Metrics.length > 100) out.push("more than 100 metrics");
    for (const m of d.Metrics) if (typeof root[m.Name] !== "number") out.push(`metric ${m.Name} is not a number member of the root`);
  }
  return out;
}

describe("processor metrics (embedded metric format)", () => {
  it("writes one EMF document per batch: failed records and a partial-batch count, by function name", () => {
    const line = batchMetricsLine({ functionName: "acme-r1", records: 7, failedRecords: 3, timestamp: 1_790_000_000_123 });
    assert.deepStrictEqual(emfProblems(line), []);
    const doc = JSON.parse(line);
    assert.deepStrictEqual(doc._aws, {
      Timestamp: 1_790_000_000_123,
      CloudWatchMetrics: [
        {
          Namespace: PROCESSOR_METRICS_NAMESPACE,
          Dimensions: [["FunctionName"]],
          Metrics: [
            { Name: PROCESSOR_METRICS.failedRecords, Unit: "Count" },
            { Name: PROCESSOR_METRICS.partialBatchFailures, Unit: "Count" },
          ],
        },
      ],
    });
    assert.deepStrictEqual([doc.FunctionName, doc.FailedRecords, doc.PartialBatchFailures, doc.Records], ["acme-r1", 3, 1, 7]);
    const clean = JSON.parse(batchMetricsLine({ functionName: "acme-r1", records: 7, failedRecords: 0, timestamp: 1 }));
    assert.deepStrictEqual([clean.FailedRecords, clean.PartialBatchFailures], [0, 0], "a clean batch publishes zeros, not nothing");
  });

  it("counts what the handler reports when target writes stay throttled past the bounded resends", async () => {
    const handle = createHandler({
      spec: { route: "r1", from: "ingest/persons", to: "curated/adults" },
      putRecords: async (records) => records.map(() => ({ errorCode: "ProvisionedThroughputExceededException", errorMessage: "Rate exceeded" })),
      sleep: async () => undefined,
      log: () => undefined,
    });
    const now = new Date();
    const event = kinesisEvent(
      [1, 2, 3].map((i) => ({ data: Buffer.from(`{"n":${i}}`), partitionKey: `k${i}`, sequenceNumber: String(i), approximateArrivalTimestamp: now })),
      { shardId: "shardId-000000000000", streamArn: "arn:aws:kinesis:eu-west-1:123456789012:stream/acme-ingest-persons", region: "eu-west-1", invokeIdentityArn: "arn:aws:iam::123456789012:role/r" },
    );
    const response = await handle(event);
    assert.strictEqual(response.batchItemFailures.length, 3, "a successful invocation for Lambda, with every record failed");
    const doc = JSON.parse(batchMetricsLine({ functionName: "acme-r1", records: event.Records.length, failedRecords: response.batchItemFailures.length, timestamp: Date.now() }));
    assert.deepStrictEqual([doc.FailedRecords, doc.PartialBatchFailures], [3, 1]);
  });
});
