/**
 * One shard's reader through an enhanced fan-out consumer (`--consumer NAME`): SubscribeToShard pushes
 * records over a subscription that lasts up to 5 minutes; the reader subscribes again after the last record
 * written (AFTER_SEQUENCE_NUMBER), or from the shard's origin while none was written (never LATEST again).
 * Records go through the same `deliver` as polling (checkpoints, --max, the pipe margin); a shard's end
 * (an event with ChildShards and no ContinuationSequenceNumber) starts its children, parents first.
 * No GetRecords calls: a consumer has its own 2 MiB/s per shard and no share of the 5 reads/s.
 */
import { ChildShard, StartingPosition, SubscribeToShardCommand, SubscribeToShardCommandOutput, SubscribeToShardEventStream } from "@aws-sdk/client-kinesis";
import { describePosition, ShardInfo, ShardStart, StartPosition } from "./shards";
import type { ShardReaderContext } from "./reader-context";
import type { FanOut } from "./engine-options";
export type { FanOut } from "./engine-options";
import { classifyError } from "../kinesis-errors";


function startingPosition(position: StartPosition): StartingPosition {
  switch (position.type) {
    case "AFTER_SEQUENCE_NUMBER":
      return { Type: "AFTER_SEQUENCE_NUMBER", SequenceNumber: position.sequenceNumber };
    case "AT_TIMESTAMP":
      return { Type: "AT_TIMESTAMP", Timestamp: position.at };
    default:
      return { Type: position.type };
  }
}

/** An exception member of the event stream, as the error it stands for. */
function eventStreamError(event: SubscribeToShardEventStream): Error | undefined {
  for (const [name, value] of Object.entries(event)) {
    if (name === "SubscribeToShardEvent" || value === undefined) continue;
    const message = (value as { message?: string })?.message ?? name;
    return Object.assign(new Error(message), { name: name === "$unknown" ? "UnknownEventStreamMember" : name });
  }
  return undefined;
}

export async function readShardFanOut(sub: ShardReaderContext, fanOut: FanOut, shard: ShardInfo, start: ShardStart): Promise<void> {
  const what = `shard ${shard.id}`;
  let lastSequenceNumber = start.first.type === "AFTER_SEQUENCE_NUMBER" ? start.first.sequenceNumber : undefined;
  let position: StartPosition = start.first;
  const eventTimeoutMs = fanOut.eventTimeoutMs ?? 60_000;

  while (!sub.stopping) {
    // One subscription: its events until it ends (after about 5 minutes), fails, or goes quiet too long.
    const ended = await sub.retrying(`${what}: SubscribeToShard`, async () => {
      const quiet = new AbortController();
      const onStop = () => quiet.abort();
      sub.stopSignal.addEventListener("abort", onStop, { once: true });
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      let gotEvent = false;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          timedOut = true;
          quiet.abort();
        }, eventTimeoutMs);
      };
      try {
        arm();
        const out: SubscribeToShardCommandOutput = await sub.reading(() =>
          fanOut.client.send(
            new SubscribeToShardCommand({ ConsumerARN: fanOut.consumerArn, ShardId: shard.id, StartingPosition: startingPosition(position) }),
            { abortSignal: quiet.signal },
          ),
        );
        const events: AsyncIterable<SubscribeToShardEventStream> = out.EventStream ?? (async function* () {})();
        const iterator = events[Symbol.asyncIterator]();
        // Aborting does not end an event stream already flowing: stop waiting for it instead (the client is
        // destroyed at the end, which closes its connection).
        const interrupted = new Promise<"interrupted">((resolve) => {
          if (quiet.signal.aborted) resolve("interrupted");
          quiet.signal.addEventListener("abort", () => resolve("interrupted"), { once: true });
        });
        for (;;) {
          const pending = iterator.next();
          pending.catch(() => undefined);
          const next = await Promise.race([pending, interrupted]);
          if (next === "interrupted") {
            void Promise.resolve(iterator.return?.()).catch(() => undefined);
            if (sub.stopping) return true;
            throw Object.assign(new Error("subscription interrupted"), { name: "AbortError" });
          }
          if (next.done) break;
          const event = next.value;
          arm();
          gotEvent = true;
          const failure = eventStreamError(event);
          if (failure) throw failure;
          const e = event.SubscribeToShardEvent;
          if (!e) continue;
          const records = e.Records ?? [];
          if (records.length > 0) sub.arrived();
          for (const record of records) {
            if (!(await sub.deliver(shard.id, record))) return true;
            lastSequenceNumber = record.SequenceNumber;
            position = { type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: lastSequenceNumber! };
          }
          sub.readDone(shard.id, records.length, (e.MillisBehindLatest ?? 0) > 0);
          // A closed shard read to the tip has nothing more: AWS says so with ChildShards and no continuation;
          // kinesis-local never does, so a caught-up empty event on a shard ListShards reports closed ends it too.
          const closedChildren = records.length === 0 && !((e.MillisBehindLatest ?? 0) > 0) ? sub.closedShardChildren(shard.id) : undefined;
          if (closedChildren) {
            sub.shardEnded(shard.id, lastSequenceNumber, closedChildren);
            return true;
          }
          if (!e.ContinuationSequenceNumber && e.ChildShards !== undefined) {
            const children = e.ChildShards.filter((c: ChildShard) => c.ShardId).map(
              (c: ChildShard): ShardInfo => ({ id: c.ShardId!, parents: c.ParentShards ?? [shard.id], closed: false }),
            );
            sub.shardEnded(shard.id, lastSequenceNumber, children);
            return true;
          }
        }
        // The subscription ended (its 5 minutes are up): subscribe again from where reading stands.
        if (!lastSequenceNumber) position = start.origin;
        return false;
      } catch (err) {
        if (!lastSequenceNumber) position = start.origin;
        // A subscription that worked for a while and then broke is made again at once; only failures to
        // get a subscription going count toward the retry bounds.
        if (gotEvent && !sub.stopping && classifyError(err) !== "fatal") {
          sub.log(`${what}: subscription broke (${(err as Error)?.name}: ${(err as Error)?.message}); subscribing again`);
          return false;
        }
        if (timedOut && !sub.stopping) {
          throw Object.assign(new Error(`no event for ${eventTimeoutMs / 1000} s on the subscription`), { name: "TimeoutError" });
        }
        if (!lastSequenceNumber) position = start.origin;
        // A subscription of this consumer to this shard may still be open (a restart within seconds):
        // it ends by itself, so this is worth retrying, unlike other ResourceInUse cases.
        if ((err as Error)?.name === "ResourceInUseException") throw Object.assign(err as Error, { $retryable: {} });
        throw err;
      } finally {
        clearTimeout(timer);
        sub.stopSignal.removeEventListener("abort", onStop);
      }
    });
    if (ended !== false) return;
    sub.log(`${what}: subscription ended; subscribing again ${describePosition(position)}`);
  }
}
