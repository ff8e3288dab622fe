/**
 * One shard's reader loop: GetRecords at most every `minGetRecordsIntervalMs` (and within the shard's
 * read bandwidth), a pause after empty reads, a fresh iterator after the last written record when the
 * old one expired (or from the shard's origin when none was written yet: never LATEST again, which would
 * skip what arrived meanwhile), and the end of a closed shard reported with its children.
 */
import { READ_INTERVAL_AT_TIP_MS, READ_INTERVAL_BEHIND_MS } from "./read-budget";
import { GET_RECORDS_MAX_RECORDS, SHARD_READ_BYTES_PER_SECOND } from "../../model/limits";
import { GetRecordsCommand, GetRecordsCommandOutput, GetShardIteratorCommand } from "@aws-sdk/client-kinesis";
import { classifyError } from "../kinesis-errors";
import { UserError } from "../errors";
import { describePosition, iteratorInput, ShardInfo, ShardStart, StartPosition } from "./shards";
import type { ShardReaderContext } from "./reader-context";

export async function readShard(sub: ShardReaderContext, shard: ShardInfo, start: ShardStart): Promise<void> {
  const opts = sub.options;
  // A shard serves 5 GetRecords calls/s to all its polling readers together (wire-tap, routes, other
  // subscribers): by default this reader takes 2 while behind and 1 at the tip, leaving room for them.
  const minInterval = opts.minGetRecordsIntervalMs ?? READ_INTERVAL_BEHIND_MS;
  const tipInterval = Math.max(minInterval, opts.tipGetRecordsIntervalMs ?? READ_INTERVAL_AT_TIP_MS);
  const limit = opts.getRecordsLimit ?? GET_RECORDS_MAX_RECORDS;
  /** The pace of the next call: behind until a read says the shard is caught up. */
  let interval = minInterval;
  const bytesPerSecond = opts.maxBytesPerSecondPerShard ?? SHARD_READ_BYTES_PER_SECOND;
  const what = `shard ${shard.id}`;
  let lastSequenceNumber = start.first.type === "AFTER_SEQUENCE_NUMBER" ? start.first.sequenceNumber : undefined;
  /** Where reading starts over while no record was written: the shard's origin (TRIM_HORIZON once its saved position was refused). */
  let origin: StartPosition = start.origin;
  let nextCallAt = 0;

  /** Where a new iterator starts after the first: after the last record written, else the shard's origin. */
  const resumePosition = (): StartPosition =>
    lastSequenceNumber ? { type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: lastSequenceNumber } : origin;

  const newIterator = async (position: StartPosition): Promise<string | undefined> => {
    try {
      const out = await sub.retrying(`${what}: GetShardIterator`, () =>
        sub.reading(() =>
          sub.client.send(new GetShardIteratorCommand(iteratorInput(sub.streamName, shard.id, position)), {
            abortSignal: sub.stopSignal,
          }),
        ),
      );
      return out?.ShardIterator;
    } catch (err) {
      const refused = position.type === "AFTER_SEQUENCE_NUMBER" ? positionRefusal(err) : undefined;
      if (refused === undefined || position.type !== "AFTER_SEQUENCE_NUMBER") throw err;
      if (sub.unknownPosition(shard.id, `the stream refused sequence number ${position.sequenceNumber} (${refused})`)) {
        lastSequenceNumber = undefined;
        origin = { type: "TRIM_HORIZON" };
        return newIterator(origin);
      }
      throw badPositionError(refused, shard.id, position.sequenceNumber, sub.options.checkpoint?.description);
    }
  };

  let iterator = await newIterator(start.first);
  while (iterator !== undefined && !sub.stopping) {
    const current: string = iterator;
    let calledAt = 0;
    let out: GetRecordsCommandOutput | undefined;
    try {
      out = await sub.retrying(`${what}: GetRecords`, async () => {
        // Every attempt, retries included, keeps to the per-shard call rate.
        while (!sub.stopping && sub.clock.now() < nextCallAt) await sub.clock.sleep(nextCallAt - sub.clock.now(), sub.stopSignal);
        if (sub.stopping) throw Object.assign(new Error("stopping"), { name: "AbortError" });
        calledAt = sub.clock.now();
        // +1: the clock ticks in whole ms, so the call may be stamped 1 ms later than calledAt.
        nextCallAt = calledAt + interval + 1;
        return sub.reading(() =>
          sub.client.send(new GetRecordsCommand({ ShardIterator: current, Limit: limit }), {
            abortSignal: sub.stopSignal,
          }),
        );
      });
    } catch (err) {
      if (classifyError(err) !== "expired") throw err;
      sub.counts.retries += 1;
      const position = resumePosition();
      sub.log(`${what}: iterator expired; continuing ${lastSequenceNumber ? "" : "from "}${describePosition(position)}`);
      iterator = await newIterator(position);
      continue;
    }
    if (!out) return;

    const records = out.Records ?? [];
    let bytes = 0;
    for (const record of records) {
      if (!(await sub.deliver(shard.id, record))) return;
      lastSequenceNumber = record.SequenceNumber;
      bytes += record.Data?.length ?? 0;
    }
    sub.readDone(shard.id, records.length, (out.MillisBehindLatest ?? 0) > 0);
    // Stay within the shard's read bandwidth: a large batch delays the next call.
    nextCallAt = Math.max(nextCallAt, calledAt + Math.ceil((bytes * 1000) / bytesPerSecond));
    // At the tip (not behind, and not a full batch), the next call waits for the tip interval.
    // Retries of the next call keep that pace too.
    interval = !((out.MillisBehindLatest ?? 0) > 0) && records.length < limit ? tipInterval : minInterval;
    nextCallAt = Math.max(nextCallAt, calledAt + interval + 1);

    if (!out.NextShardIterator) {
      const children = (out.ChildShards ?? [])
        .filter((c) => c.ShardId)
        .map((c): ShardInfo => ({ id: c.ShardId!, parents: c.ParentShards ?? [shard.id], closed: false }));
      sub.shardEnded(shard.id, lastSequenceNumber, children);
      return;
    }
    iterator = out.NextShardIterator;
    if (records.length === 0 && !((out.MillisBehindLatest ?? 0) > 0)) await sub.clock.sleep(opts.emptyReadPauseMs ?? 1_000, sub.stopSignal);
  }
}

/**
 * A sequence number the shard does not know (an edited checkpoint, or one of another stream) is rejected by
 * Kinesis with InvalidArgumentException (emulators may say ResourceNotFoundException naming the sequence
 * number): the refusal in words, or undefined for any other error (not "stream not found").
 */
function positionRefusal(err: unknown): string | undefined {
  const name = (err as Error)?.name;
  const message = (err as Error)?.message ?? "";
  const aboutSequence = name === "ResourceNotFoundException" && /sequence ?number/i.test(message);
  if (name !== "InvalidArgumentException" && name !== "ValidationException" && !aboutSequence) return undefined;
  return `${name}: ${message.split("\n")[0]}`;
}

function badPositionError(refusal: string, shardId: string, sequenceNumber: string, checkpoint: string | undefined): UserError {
  return new UserError(
    `shard ${shardId} refused sequence number ${sequenceNumber} (${refusal}); ` +
      (checkpoint
        ? `${checkpoint} does not fit this stream (edited, or written for another stream): move it away to read from --from`
        : "the position does not fit this stream"),
  );
}
