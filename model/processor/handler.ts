/**
 * The processor's handler: the one implementation of a route's logic. Deployed as the route's Lambda
 * function (see lambda.ts) and run by the local lake (local/processor.ts) on the same events.
 *
 * Input: a Kinesis event exactly as Lambda's event source mapping delivers it (with `filterAt: mapping`,
 * already filtered by the mapping's filter criteria; the handler applies the route's filter either way). Output: Lambda's partial batch response (`batchItemFailures`, item
 * identifier = sequence number), plus `state` for tumbling windows.
 *
 * - Forwarding (no transform): each record's ORIGINAL bytes, under its ORIGINAL partition key.
 * - Transform: the record's JSON object projected (transform.ts), values kept exactly as published; a
 *   record that is not a JSON object is a poison record: it would fail on every retry, so it goes
 *   straight to the dead-letter queue with its data, and the shard moves on.
 * - An output the target cannot take (over Kinesis's 1 MiB per record, partition key included) is
 *   poison too, at once: to the dead-letter queue with the reason, never sent, never retried.
 * - Dead-letter messages are cut to the queue's limit (dead-letter.ts `fitDeadLetter`): a record too
 *   large to carry is named by its size and position.
 * - Aggregate: folds records into the window state; on the window's final invocation writes one record
 *   per group (aggregate.ts).
 * - PutRecords entries that fail are resent, exactly those, at most `maxPutAttempts` times in all;
 *   records still undelivered are reported as batch item failures, so Lambda retries them (bounded by
 *   the mapping's retry and age settings) and then sends their batch to the on-failure destination.
 */
import type { KinesisStreamRecord } from "aws-lambda";
import { deaggregate, isAggregated } from "../kpl";
import { PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_RECORDS } from "../limits";
import { addRecord, readState, resultPartitionKey, resultText, WindowState, windowResults, writeState } from "./aggregate";
import { DeadLetterMessage, fitDeadLetter, KINESIS_RECORD_MAX_BYTES } from "./dead-letter";
import { recordPassesFilter } from "./filter";
import { ProcessorSpec } from "./spec";
import { parseJsonObject, PoisonRecordError, transformRecord } from "./transform";

/** A Kinesis event as Lambda delivers it; the tumbling-window fields only when the mapping has a window. */
export interface ProcessorEvent {
  Records: KinesisStreamRecord[];
  window?: { start: string; end: string };
  state?: Record<string, unknown>;
  shardId?: string;
  eventSourceARN?: string;
  isFinalInvokeForWindow?: boolean;
  isWindowTerminatedEarly?: boolean;
}

export interface ProcessorResponse {
  batchItemFailures: { itemIdentifier: string }[];
  /** Only for tumbling windows: Lambda treats a windowed response without `state` as a failure. */
  state?: Record<string, unknown>;
}

/** A record for the target stream. */
export interface TargetRecord {
  data: Uint8Array;
  partitionKey: string;
  /** Kept from a KPL user record that had one, so it lands on the shard its producer chose. */
  explicitHashKey?: string;
}

/** Per entry, in request order: no errorCode when Kinesis stored it. */
export interface PutResult {
  errorCode?: string;
  errorMessage?: string;
}

/** One PutRecords request (at most 500 entries, 5 MiB) to the target stream; throws when the request fails. */
export type PutRecordsFn = (records: TargetRecord[]) => Promise<PutResult[]>;

export type { DeadLetterMessage } from "./dead-letter";

/** Sends one message to the processor's own dead-letter queue; throws when it could not. */
export type DeadLetterFn = (message: DeadLetterMessage) => Promise<void>;

export interface HandlerDeps {
  spec: ProcessorSpec;
  putRecords: PutRecordsFn;
  /** @default none: poison records are reported as batch item failures instead */
  deadLetter?: DeadLetterFn;
  /** PutRecords attempts per entry, the first included. @default 4 */
  maxPutAttempts?: number;
  /** Pause before resend n (1-based). @default 100 ms * 2^(n-1) */
  backoffMs?: (attempt: number) => number;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** One line per notable event. @default console.log */
  log?: (line: string) => void;
}

/** PutRecords limits: entries and bytes (data + partition keys) per request. */
export const PUT_RECORDS_LIMITS = { records: PUT_RECORDS_MAX_RECORDS, bytes: PUT_RECORDS_MAX_BYTES };

const shardOf = (r: KinesisStreamRecord): string => r.eventID.split(":")[0];

/** Bytes Kinesis counts for a record: data plus partition key (UTF-8). */
const recordBytes = (r: TargetRecord): number => r.data.length + Buffer.byteLength(r.partitionKey, "utf8");

/** Why the target cannot take a record; undefined when it can. */
function unwritable(r: TargetRecord): string | undefined {
  const bytes = recordBytes(r);
  if (bytes <= KINESIS_RECORD_MAX_BYTES) return undefined;
  return `the output is ${bytes} bytes with its partition key, over Kinesis's limit of ${KINESIS_RECORD_MAX_BYTES} bytes (1 MiB) per record, so the target stream cannot take it`;
}

/** One user record of a Kinesis record: the record itself, or one of a KPL aggregate's records. */
interface UserRecordOf {
  data: Uint8Array;
  partitionKey: string;
  explicitHashKey?: string;
  /** Index inside the aggregate; undefined for a plain record. */
  subRecordIndex?: number;
}

/**
 * The user records of a delivered Kinesis record that pass the route's filter. KPL aggregates
 * (model/kpl.ts) are unpacked first and each user record inside is filtered, since a mapping's filter
 * criteria could only see the aggregate, which is not JSON. A record the mapping filtered already passes
 * again (the same pattern), so filtering here is right wherever the route filters (`filterAt`).
 */
export function userRecords(record: KinesisStreamRecord, filter: Record<string, unknown> | undefined): UserRecordOf[] {
  const data = Buffer.from(record.kinesis.data, "base64");
  const partitionKey = record.kinesis.partitionKey;
  const plain = () => (recordPassesFilter(filter, data) ? [{ data, partitionKey }] : []);
  if (!isAggregated(data)) return plain();
  const users = deaggregate({ partitionKey, data });
  if (users.length === 1 && users[0].data === data) return plain(); // magic bytes, bad body: a plain record
  return users
    .map((u, i) => ({ data: u.data, partitionKey: u.partitionKey, explicitHashKey: u.explicitHashKey, subRecordIndex: i }))
    .filter((u) => recordPassesFilter(filter, u.data));
}

export class UndeliveredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UndeliveredError";
  }
}

export function createHandler(deps: HandlerDeps): (event: ProcessorEvent) => Promise<ProcessorResponse> {
  const { spec } = deps;
  const maxAttempts = deps.maxPutAttempts ?? 4;
  const backoff = deps.backoffMs ?? ((n: number) => 100 * 2 ** (n - 1));
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const log = deps.log ?? ((line: string) => console.log(line));

  /** Writes records to the target; returns the indexes that could not be delivered. */
  async function deliver(records: TargetRecord[]): Promise<Set<number>> {
    const undelivered = new Set<number>();
    for (const chunk of chunks(records)) {
      let pending = chunk;
      for (let attempt = 1; pending.length > 0 && attempt <= maxAttempts; attempt++) {
        if (attempt > 1) await sleep(backoff(attempt - 1));
        let results: PutResult[];
        try {
          results = await deps.putRecords(pending.map((i) => records[i]));
        } catch (err) {
          log(`route ${spec.route}: PutRecords to ${spec.to} failed (attempt ${attempt} of ${maxAttempts}): ${(err as Error).message}`);
          continue;
        }
        const failed = pending.filter((_, k) => results[k]?.errorCode !== undefined || results[k] === undefined);
        if (failed.length > 0) {
          const first = results.find((r) => r?.errorCode);
          log(`route ${spec.route}: ${failed.length} of ${pending.length} records not stored by ${spec.to} (attempt ${attempt} of ${maxAttempts}; ${first?.errorCode ?? "no result"})`);
        }
        pending = failed;
      }
      for (const i of pending) undelivered.add(i);
    }
    return undelivered;
  }

  /** Sends a message to the dead-letter queue, cut to fit it; false when that is not possible. */
  async function send(message: DeadLetterMessage, what: string): Promise<boolean> {
    if (!deps.deadLetter) return false;
    try {
      await deps.deadLetter(fitDeadLetter(message));
      log(`route ${spec.route}: ${what} sent to the dead-letter queue: ${message.reason}`);
      return true;
    } catch (err) {
      log(`route ${spec.route}: cannot send ${what} to the dead-letter queue: ${(err as Error).message}`);
      return false;
    }
  }

  /** Sends a poison record to the dead-letter queue; false when that is not possible. */
  function deadLetter(record: KinesisStreamRecord, user: UserRecordOf, reason: string): Promise<boolean> {
    const message: DeadLetterMessage = {
      kind: "poison-record",
      route: spec.route,
      from: spec.from,
      to: spec.to,
      reason,
      eventSourceARN: record.eventSourceARN,
      shardId: shardOf(record),
      sequenceNumber: record.kinesis.sequenceNumber,
      partitionKey: user.partitionKey,
      approximateArrivalTimestamp: record.kinesis.approximateArrivalTimestamp,
      dataBytes: user.data.length,
      dataBase64: Buffer.from(user.data).toString("base64"),
      ...(user.subRecordIndex === undefined ? {} : { subRecordIndex: user.subRecordIndex }),
    };
    const at = user.subRecordIndex === undefined ? "" : ` (user record ${user.subRecordIndex})`;
    return send(message, `record ${record.kinesis.sequenceNumber}${at} of ${shardOf(record)}`);
  }

  async function forward(event: ProcessorEvent): Promise<ProcessorResponse> {
    const out: TargetRecord[] = [];
    const sourceOf: number[] = [];
    const failures = new Set<number>();
    for (const [i, record] of event.Records.entries()) {
      for (const user of userRecords(record, spec.filter)) {
        const key = { partitionKey: user.partitionKey, ...(user.explicitHashKey ? { explicitHashKey: user.explicitHashKey } : {}) };
        try {
          const output = { data: spec.transform ? transformRecord(user.data, spec.transform) : user.data, ...key };
          const why = unwritable(output);
          if (why) throw new PoisonRecordError(why);
          out.push(output);
          sourceOf.push(i);
        } catch (err) {
          if (!(err instanceof PoisonRecordError)) throw err;
          if (!(await deadLetter(record, user, err.message))) failures.add(i);
        }
      }
    }
    for (const k of await deliver(out)) failures.add(sourceOf[k]);
    return {
      batchItemFailures: [...failures].sort((a, b) => a - b).map((i) => ({ itemIdentifier: event.Records[i].kinesis.sequenceNumber })),
    };
  }

  async function aggregate(event: ProcessorEvent): Promise<ProcessorResponse> {
    const agg = spec.aggregate!;
    const state: WindowState = readState(event.state, agg);
    const batchItemFailures: { itemIdentifier: string }[] = [];
    records: for (const record of event.Records) {
      // Fold a Kinesis record's user records only once all of them are readable or dead-lettered.
      const values = [];
      for (const user of userRecords(record, spec.filter)) {
        try {
          values.push(parseJsonObject(user.data));
        } catch (err) {
          if (!(err instanceof PoisonRecordError)) throw err;
          if (await deadLetter(record, user, err.message)) continue;
          // Stop here: Lambda re-delivers from this record, so folding later ones would count them twice.
          batchItemFailures.push({ itemIdentifier: record.kinesis.sequenceNumber });
          break records;
        }
      }
      for (const value of values) addRecord(state, value, agg);
    }
    if (event.isFinalInvokeForWindow && batchItemFailures.length === 0) {
      const window = event.window ?? { start: "", end: "" };
      const results: TargetRecord[] = [];
      for (const r of windowResults(state, window, agg)) {
        const result = { data: Buffer.from(resultText(r), "utf8"), partitionKey: resultPartitionKey(r.key as Record<string, never>, agg) };
        const why = unwritable(result);
        if (!why) {
          results.push(result);
          continue;
        }
        // Poison at once (it would fail every retry), and before anything is written, so that a retry
        // of this invocation after a dead-letter failure does not write the other results twice.
        const sent = await send(
          {
            kind: "unwritable-window-result",
            route: spec.route,
            from: spec.from,
            to: spec.to,
            reason: why,
            eventSourceARN: event.eventSourceARN ?? "",
            shardId: event.shardId ?? "",
            window,
            partitionKey: result.partitionKey,
            dataBytes: result.data.length,
            data: Buffer.from(result.data).toString("utf8"),
          },
          `the window result for ${result.partitionKey.slice(0, 64)} of ${window.start}..${window.end}`,
        );
        if (!sent) throw new UndeliveredError(`route ${spec.route}: a window result for ${window.start}..${window.end} is too large for ${spec.to} and could not be dead-lettered`);
      }
      const undelivered = await deliver(results);
      if (undelivered.size > 0) {
        // A function error: Lambda retries the final invocation with the same state (bounded by the
        // mapping's retry settings), so the window's results are not lost to one failed request.
        throw new UndeliveredError(`route ${spec.route}: ${undelivered.size} window results for ${window.start}..${window.end} not stored by ${spec.to}`);
      }
      log(`route ${spec.route}: window ${window.start}..${window.end}${event.isWindowTerminatedEarly ? " (terminated early)" : ""} of ${event.shardId ?? "?"}: ${results.length} results`);
      return { state: {}, batchItemFailures };
    }
    return { state: writeState(state), batchItemFailures };
  }

  return async (event) => (spec.aggregate ? aggregate(event) : forward(event));
}

/** Indexes of `records` split into PutRecords-sized requests (in order). */
export function chunks(records: TargetRecord[]): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  records.forEach((r, i) => {
    const size = r.data.length + Buffer.byteLength(r.partitionKey, "utf8");
    if (current.length > 0 && (current.length >= PUT_RECORDS_LIMITS.records || bytes + size > PUT_RECORDS_LIMITS.bytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  });
  if (current.length > 0) out.push(current);
  return out;
}
