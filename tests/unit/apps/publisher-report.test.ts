import * as assert from "assert";
import { isRetryableEntryCode, isRetryableRequestError } from "../../../runtime/producer/retry-policy";
import { PublishSummary } from "../../../runtime/producer/publisher";
import { formatSummary, undeliveredReason } from "../../../apps/publisher/report";

function summary(overrides: Partial<PublishSummary> = {}): PublishSummary {
  return {
    records: 100,
    sent: 100,
    bytes: 2048,
    durationMs: 2000,
    recordsPerSecond: 50,
    requests: 3,
    kinesisRecords: 100,
    kinesisBytes: 2048,
    throttledEntries: 0,
    shards: 0,
    shardMapRefreshes: 0,
    retries: { resentRecords: 4, throttledRequests: 1 },
    failed: { count: 0, reasons: {} },
    interrupted: false,
    ...overrides,
  };
}

describe("publisher: report", () => {
  it("prints one summary block", () => {
    assert.strictEqual(
      formatSummary(summary(), 100),
      "published 100 of 100 records in 2.0 s (50 records/s, 2.0 KiB, 3 requests)\n" +
        "  retries: 4 records resent, 1 throttled requests\n" +
        "  failed: 0\n",
    );
  });

  it("has no error line when every record was delivered", () => {
    assert.strictEqual(undeliveredReason(summary(), 100), undefined);
  });

  it("names how many records were lost and why, most frequent first", () => {
    const lost = summary({ sent: 96, failed: { count: 4, reasons: { RecordTooLarge: 1, ProvisionedThroughputExceededException: 3 } } });
    assert.strictEqual(
      undeliveredReason(lost, 100),
      "4 of 100 records could not be delivered (3 ProvisionedThroughputExceededException, 1 RecordTooLarge)",
    );
    assert.match(formatSummary(lost, 100), /failed: 4 \(3 ProvisionedThroughputExceededException, 1 RecordTooLarge\)/);
  });

  it("counts records never sent after an interruption", () => {
    const cut = summary({ records: 60, sent: 60, interrupted: true });
    assert.strictEqual(undeliveredReason(cut, 100), "40 of 100 records could not be delivered (40 interrupted)");
    assert.match(formatSummary(cut, 100), /interrupted: 40 records were never sent/);
  });
});

describe("publisher: retry policy", () => {
  const err = (props: object) => Object.assign(new Error("x"), props);
  it("retries throttling, server faults and network errors", () => {
    for (const name of ["ProvisionedThroughputExceededException", "LimitExceededException", "KMSThrottlingException", "TimeoutError"]) {
      assert.ok(isRetryableRequestError(err({ name }), false), name);
    }
    assert.ok(isRetryableRequestError(err({ name: "Whatever", $metadata: { httpStatusCode: 503 } }), false));
    assert.ok(isRetryableRequestError(err({ code: "ECONNRESET" }), false));
    assert.ok(isRetryableRequestError(err({ code: "ECONNREFUSED" }), true), "refused after a delivery: a blip");
  });

  it("does not retry what time will not fix", () => {
    for (const name of ["ResourceNotFoundException", "AccessDeniedException", "ValidationException", "InvalidArgumentException", "CredentialsProviderError", "KMSAccessDeniedException"]) {
      assert.ok(!isRetryableRequestError(err({ name, $metadata: { httpStatusCode: 400 } }), true), name);
    }
    assert.ok(!isRetryableRequestError(err({ code: "ECONNREFUSED" }), false), "refused before any delivery: wrong endpoint");
    assert.ok(!isRetryableRequestError(new TypeError("bug"), true));
  });

  it("resends entries that failed with throttling or internal failure only", () => {
    assert.ok(isRetryableEntryCode("ProvisionedThroughputExceededException"));
    assert.ok(isRetryableEntryCode("InternalFailure"));
    assert.ok(!isRetryableEntryCode("KMSAccessDeniedException"));
  });
});
