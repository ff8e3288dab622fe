/**
 * The local processor's invocations (local/processor.ts): a batch with the event source mapping's retry,
 * bisect and dead-letter semantics, and the tumbling windows' state and final invocations.
 */
import { SourceRecord, tumblingWindowEvent, windowOf, windowTime, kinesisEvent } from "../../model/processor/events";
import { ProcessorEvent, ProcessorResponse } from "../../model/processor/handler";
import { WINDOW_STATE_LIMIT } from "./options";
import { ProcessorState } from "./state";

/** A JSON round trip, as Lambda's invoke does: nothing but JSON crosses it. */
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export abstract class ProcessorInvoker extends ProcessorState {
  /** One batch with the mapping's retry, bisect and dead-letter semantics. */
  protected async invokeBatch(shardId: string, records: SourceRecord[]): Promise<void> {
    const queue: { records: SourceRecord[]; retries: number }[] = [{ records, retries: 0 }];
    while (queue.length > 0) {
      const job = queue.shift()!;
      const failedAt = await this.invokeOnce(shardId, job.records);
      if (failedAt === undefined) continue;
      const rest = job.records.slice(failedAt);
      if (this.route.failure.bisectBatchOnFunctionError && rest.length > 1) {
        // Splitting does not count as a retry (Lambda: "Splitting a batch does not count towards the retry quota").
        const half = Math.ceil(rest.length / 2);
        queue.unshift({ records: rest.slice(0, half), retries: job.retries }, { records: rest.slice(half), retries: job.retries });
      } else if (job.retries < this.route.failure.maximumRetryAttempts) {
        queue.unshift({ records: rest, retries: job.retries + 1 });
      } else {
        // Only this piece is discarded; pieces split off after it still run, in order.
        await this.giveUp(shardId, rest, "RetryAttemptsExhausted", job.retries + 1);
      }
    }
  }

  /** Invokes once; returns the index of the first record to retry, or undefined on success. */
  private async invokeOnce(shardId: string, records: SourceRecord[]): Promise<number | undefined> {
    const ctx = { ...this.ctx, shardId };
    const cp = this.shardState(shardId);
    let event: ProcessorEvent;
    if (this.route.aggregate) {
      const w = windowOf(records[0].approximateArrivalTimestamp.getTime(), this.route.aggregate.windowSeconds);
      cp.window ??= { startMs: w.startMs, state: {} };
      event = tumblingWindowEvent(records, ctx, { ...w, state: cp.window.state, isFinalInvokeForWindow: false, isWindowTerminatedEarly: false });
    } else {
      event = kinesisEvent(records, ctx);
    }
    this.stats.invoked += records.length;
    let response: ProcessorResponse;
    try {
      response = wire(await this.handler(wire(event)));
    } catch (err) {
      this.log(`route ${this.route.name}: the handler failed on ${records.length} records of ${shardId}: ${(err as Error).message}`);
      return 0;
    }
    const failures = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
    const index = failures.length === 0 ? undefined : Math.min(...failures.map((id) => records.findIndex((r) => r.sequenceNumber === id)));
    if (index !== undefined && index < 0) return 0; // an identifier Lambda cannot match: the whole batch failed
    if (this.route.aggregate) {
      if (!response || typeof response.state !== "object" || response.state === null) return 0; // no state: a failure for Lambda
      cp.window!.state = response.state;
    }
    const done = index === undefined ? records.length : index;
    if (done > 0) cp.done = this.positionOf(shardId, records[done - 1].sequenceNumber);
    await this.saveCheckpoint(shardId);
    if (this.route.aggregate && JSON.stringify(cp.window!.state).length > WINDOW_STATE_LIMIT) await this.finalInvoke(shardId, true);
    return index;
  }

  /** Ends the shard's open window when its end has passed (or always, when `force`). */
  protected async closeWindow(shardId: string, force: boolean): Promise<void> {
    const open = this.shardState(shardId).window;
    if (!open || !this.route.aggregate) return;
    const endMs = open.startMs + this.route.aggregate.windowSeconds * 1000;
    if (force || this.now() >= endMs) await this.finalInvoke(shardId, false);
  }

  /** The window's final invocation (no records), retried like any other; then the state is dropped. */
  protected async finalInvoke(shardId: string, terminatedEarly: boolean): Promise<void> {
    const cp = this.shardState(shardId);
    const open = cp.window;
    if (!open || !this.route.aggregate) return;
    const endMs = open.startMs + this.route.aggregate.windowSeconds * 1000;
    const event = tumblingWindowEvent([], { ...this.ctx, shardId }, {
      startMs: open.startMs,
      endMs,
      state: open.state,
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: terminatedEarly,
    });
    for (let attempt = 0; attempt <= this.route.failure.maximumRetryAttempts; attempt++) {
      try {
        wire(await this.handler(wire(event)));
        // An early end continues the same window with a fresh state; a normal end closes it.
        cp.window = terminatedEarly ? { startMs: open.startMs, state: {} } : undefined;
        await this.saveCheckpoint(shardId);
        return;
      } catch (err) {
        this.log(`route ${this.route.name}: final invocation of window ${windowTime(open.startMs)} on ${shardId} failed: ${(err as Error).message}`);
      }
    }
    this.stats.failed++;
    this.deadLetter(this.invocationRecord(shardId, [], "RetryAttemptsExhausted", this.route.failure.maximumRetryAttempts + 1, { window: { start: windowTime(open.startMs), end: windowTime(endMs) } }));
    cp.window = undefined;
    await this.saveCheckpoint(shardId);
  }

}
