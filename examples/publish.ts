/**
 * An application that publishes records to a segment of the lake.
 *
 *   node scripts/run-ts.js examples/publish.ts [segment] [count] [id-prefix]
 *
 * Against the lake that DATALAKE_CATALOG (and, for the local lake, AWS_ENDPOINT_URL_KINESIS) name: paste
 * the lines `npx datalake local-lake` prints, or point DATALAKE_CATALOG at a deployed stack's catalog
 * (`pulumi stack output catalog --json > catalog.json`). Prints one JSON line with what was delivered.
 */
import { ConfigurationError, DeliveryError, openLake, PublishInput, SegmentNotFoundError } from "datalake";

/** Person records like the demo publisher's, each with an id unique to the record (consumers de-duplicate by it). */
function* persons(prefix: string, count: number): Iterable<PublishInput> {
  for (let i = 1; i <= count; i++) {
    yield { data: JSON.stringify({ id: `${prefix}-${i}`, name: `dennis ${i}`, age: i % 100 }), partitionKey: `${prefix}-${i}` };
  }
}

async function main(): Promise<void> {
  const [segment = "ingest/persons", count = "1000", prefix = `example-${Date.now()}`] = process.argv.slice(2);
  const lake = await openLake();
  try {
    // Ctrl-C stops taking records; those already taken are still delivered.
    const stop = new AbortController();
    process.once("SIGINT", () => stop.abort());
    const summary = await lake.publish({ segment, records: persons(prefix, Number(count)), signal: stop.signal });
    console.log(JSON.stringify({ segment, sent: summary.sent, recordsPerSecond: summary.recordsPerSecond, interrupted: summary.interrupted }));
  } finally {
    await lake.close();
  }
}

main().catch((err: unknown) => {
  // The library's errors say what to fix in one line; undelivered records also carry the summary.
  console.error(`error: ${(err as Error).message}`);
  if (err instanceof DeliveryError) console.error(`  delivered ${err.summary.sent} of ${err.summary.records}`);
  process.exitCode = err instanceof ConfigurationError || err instanceof SegmentNotFoundError ? 2 : 1;
});
