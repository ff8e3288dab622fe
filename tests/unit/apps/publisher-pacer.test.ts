/**
 * The per-shard pacer on a fake clock: token arithmetic, AIMD on throttling, and a simulated shard (the
 * limits endpoint's own token bucket) behind a jittery network, alone and shared with another writer.
 */
import * as assert from "assert";
import { ShardPacer } from "../../../runtime/producer/pacer";
import { TokenBucket } from "../../../testkit/limits-endpoint";
import { seeded } from "../../helpers/seeded";

describe("publisher: per-shard pacer", () => {
  it("holds half a second of the limits and refills at the limits", () => {
    let now = 0;
    const p = new ShardPacer({ recordsPerSecond: 1000, bytesPerSecond: 1_000_000 }, { now: () => now });
    assert.strictEqual(p.capacityRecords, 500);
    assert.strictEqual(p.batchRecords, 250);
    assert.strictEqual(p.waitMs(500, 100), 0);
    p.take(500, 100);
    assert.strictEqual(p.waitMs(250, 100), 250);
    now = 250;
    assert.strictEqual(p.waitMs(250, 100), 0);
    // Bytes bind too: 400 kB needs 400 ms at 1 MB/s from empty.
    p.take(250, 500_000);
    now = 260;
    assert.strictEqual(p.waitMs(1, 400_000), 400 - 10 + 0);
    // A request over a full bucket waits for a full bucket only.
    now = 10_000;
    assert.strictEqual(p.waitMs(10_000, 1), 0);
  });

  it("cuts its share on throttling (once per interval) and regains it over time", () => {
    let now = 0;
    const p = new ShardPacer(undefined, { now: () => now });
    p.throttled();
    assert.strictEqual(p.share, 0.8);
    assert.ok(p.availableRecords() <= 0, "buckets emptied");
    now = 500;
    p.throttled(); // same event
    assert.strictEqual(p.share, 0.8);
    now = 1000;
    p.throttled();
    assert.ok(Math.abs(p.share - 0.64) < 1e-9);
    now = 3000;
    p.succeeded(); // 2 s without throttling: +0.2
    assert.ok(Math.abs(p.share - 0.84) < 1e-9, String(p.share));
    now = 10_000;
    p.succeeded();
    assert.strictEqual(p.share, 1);
    assert.strictEqual(p.decreases, 2);
  });

  /** A shard of `limit` records/s, reached over a network with 5..80 ms one-way jitter, `others` records/s already used by another writer. */
  function simulate(others: number, seconds = 120) {
    let now = 0;
    const clock = () => now;
    const shard = new TokenBucket(1000, clock);
    const pacer = new ShardPacer(undefined, { now: clock });
    const random = seeded(7);
    let backlog = Infinity; // a source that always has records
    let accepted = 0;
    let rejected = 0;
    let othersDue = 0;
    while (now < seconds * 1000) {
      const batch = Math.min(backlog, pacer.batchRecords);
      const wait = pacer.waitMs(batch, batch * 100);
      const sendAt = now + wait;
      const take = Math.max(1, Math.floor(Math.min(pacer.availableRecordsAt(sendAt), 500)));
      now = sendAt;
      pacer.take(take, take * 100);
      const arrive = now + 5 + random() * 75;
      // The other writer takes its share up to our request's arrival.
      while (othersDue <= arrive && others > 0) {
        now = othersDue;
        shard.take(1);
        othersDue += 1000 / others;
      }
      now = arrive;
      let throttled = 0;
      for (let i = 0; i < take; i++) {
        if (shard.available() >= 1) {
          shard.take(1);
          accepted++;
        } else throttled++;
      }
      rejected += throttled;
      now = arrive + 5 + random() * 75; // the response
      if (throttled > 0) pacer.throttled();
      else pacer.succeeded();
    }
    return { rate: accepted / seconds, throttledShare: rejected / (accepted + rejected) };
  }

  it("fills a shard it has to itself to its limit without being throttled", () => {
    const { rate, throttledShare } = simulate(0);
    assert.ok(rate >= 950, `rate ${rate}`);
    if (process.env.SHOW) console.log(rate, throttledShare);
    assert.ok(throttledShare < 0.01, `throttled ${throttledShare}`);
  });

  it("settles at what another writer leaves, throttled for under 10% of its records", () => {
    const { rate, throttledShare } = simulate(300);
    assert.ok(rate >= 0.85 * 700, `rate ${rate}`);
    if (process.env.SHOW) console.log(rate, throttledShare);
    assert.ok(throttledShare < 0.1, `throttled ${throttledShare}`);
  });
});
