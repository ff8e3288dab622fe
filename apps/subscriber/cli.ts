/**
 * The subscriber's command line: flags, their validation (one line naming the flag and what is allowed),
 * and the summary line. Pure, so it is testable without a stream.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { addTargetOptions } from "../lib/target";
import { parseCliTime } from "../lib/time";
import { StartFrom } from "../../runtime/consumer/shards";
import { SubscribeSummary } from "../../runtime/consumer/engine";

export interface SubscriberFlags {
  from: StartFrom;
  max?: number;
  /** Seconds. */
  idleTimeout?: number;
  checkpoint?: string;
  /** Enhanced fan-out consumer name (SubscribeToShard instead of GetRecords). */
  consumer?: string;
  /** GetRecords calls per second per shard while behind. */
  readsPerSecond: number;
  /** Bytes; undefined: pipe-max-size + 1 MiB. */
  pipeMargin?: number;
  /** Consumer group to work in (README "Consumer groups"). */
  group?: string;
  /** leaseOwner of this worker; undefined: hostname:pid. */
  workerId?: string;
  /** Seconds a lease lives without renewal. */
  leaseSeconds: number;
  stream?: string;
  segment?: string;
  catalog?: string;
  endpoint?: string;
  region?: string;
}

/** `trim-horizon`, `latest` or a time not in the future, read as every app reads times (apps/lib/time.ts). */
export function parseFrom(value: string, now: Date = new Date()): StartFrom {
  const v = value.trim();
  const word = v.toLowerCase().replace(/_/g, "-");
  if (word === "trim-horizon") return { type: "trim-horizon" };
  if (word === "latest") return { type: "latest" };
  if (!/^\d{4}-/.test(v)) throw new InvalidArgumentError("expected trim-horizon, latest or an ISO-8601 time such as 2024-05-01T12:00:00Z.");
  const at = parseCliTime(v);
  if (!(at instanceof Date)) throw new InvalidArgumentError(`${at.problem}.`);
  if (at.getTime() > now.getTime()) throw new InvalidArgumentError(`${at.toISOString()} is in the future.`);
  return { type: "at-timestamp", at };
}

export function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError("expected a whole number of at least 1.");
  }
  return n;
}

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(?:\.\d+)?$/.test(value.trim()) || !(n > 0) || n > 86_400 * 365) {
    throw new InvalidArgumentError("expected a number of seconds greater than 0, e.g. 30 or 0.5.");
  }
  return n;
}

export function parseReadsPerSecond(value: string): number {
  const n = Number(value);
  if (!/^\d+(?:\.\d+)?$/.test(value.trim()) || !(n >= 0.1) || n > 5) {
    throw new InvalidArgumentError("expected a number of calls from 0.1 to 5 (a shard serves 5 GetRecords calls per second to all its readers).");
  }
  return n;
}

export function parseConsumerName(value: string): string {
  if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(value)) throw new InvalidArgumentError("expected a consumer name: 1-128 letters, digits, _ . -");
  return value;
}

export function parseGroupName(value: string): string {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(value)) throw new InvalidArgumentError("expected a group name as declared under the segment's groups, e.g. billing.");
  return value;
}

export function parseWorkerId(value: string): string {
  if (!/^[\x21-\x7e]{1,256}$/.test(value)) throw new InvalidArgumentError("expected 1-256 printable characters without spaces, e.g. host-a:1.");
  return value;
}

export function parseLeaseSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(?:\.\d+)?$/.test(value.trim()) || !(n >= 1) || n > 600) throw new InvalidArgumentError("expected a number of seconds from 1 to 600, e.g. 10.");
  return n;
}

export function parseBytes(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError("expected a whole number of bytes, e.g. 2097152.");
  return n;
}

export function buildProgram(): Command {
  const program = new Command("subscribe")
    .description(
      "Read every shard of a data segment's Kinesis stream and write each record to stdout as one JSON line " +
        "(logs go to stderr).",
    )
    .addOption(
      new Option("--from <position>", "where shards without a checkpoint start: trim-horizon, latest or an ISO-8601 time")
        .argParser((v) => parseFrom(v))
        .default({ type: "latest" } satisfies StartFrom, "latest"),
    )
    .addOption(new Option("--max <n>", "stop after N records").argParser(parsePositiveInteger))
    .addOption(new Option("--idle-timeout <seconds>", "stop when no record arrived for this long").argParser(parseSeconds))
    .addOption(
      new Option("--checkpoint <file>", "remember per shard the last record written; a restart resumes after it"),
    )
    .addOption(
      new Option(
        "--consumer <name>",
        "read through this registered enhanced fan-out consumer (SubscribeToShard; its own 2 MiB/s per shard) instead of polling",
      ).argParser(parseConsumerName),
    )
    .addOption(
      new Option(
        "--reads-per-second <n>",
        "GetRecords calls per second per shard while behind (1-5; a shard serves 5 to all its polling readers together; at the tip 1)",
      )
        .argParser(parseReadsPerSecond)
        .default(2),
    )
    .addOption(
      new Option(
        "--pipe-margin <bytes>",
        "when stdout is a pipe, bytes of output its reader may hold unread; the checkpoint covers a record only once this much output follows it (default: the largest pipe buffer + 1 MiB)",
      ).argParser(parseBytes),
    )
    .addOption(
      new Option(
        "--group <name>",
        "work in this consumer group of the segment: read only the shards this process leases from the group's table, sharing the stream with the group's other workers",
      )
        .argParser(parseGroupName)
        .conflicts(["checkpoint", "max", "idleTimeout", "stream"]),
    )
    .addOption(new Option("--worker-id <id>", "with --group: this worker's name in the lease table (default: hostname:pid)").argParser(parseWorkerId))
    .addOption(
      new Option("--lease-seconds <n>", "with --group: how long a lease lives without renewal; a dead worker's shards are taken over after about this long")
        .argParser(parseLeaseSeconds)
        .default(10),
    );
  return addTargetOptions(program).exitOverride();
}

export function describeFrom(from: StartFrom): string {
  return from.type === "at-timestamp" ? from.at.toISOString() : from.type;
}

export function formatSummary(s: SubscribeSummary): string {
  const reasons: Record<SubscribeSummary["stopReason"], string> = {
    max: "--max reached",
    "idle-timeout": "--idle-timeout reached",
    aborted: "interrupted",
    "all-shards-ended": "every shard is closed and read",
    error: "error",
  };
  return (
    `summary: ${s.records} records (${s.bytes} bytes) from ${s.shardsRead} shard(s) in ${(s.durationMs / 1000).toFixed(1)} s; ` +
    `${s.throttles} throttled and ${s.retries} retried calls; stopped: ${reasons[s.stopReason]}`
  );
}
