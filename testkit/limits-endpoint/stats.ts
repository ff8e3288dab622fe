/** The limits endpoint's counters, per stream and in total, and the order check of the null backend. */
import { PutEntry, PutResult } from "./wire";

export interface LimitsStats {
  /** PutRecords calls and entries received, entries rejected for the shard limits. */
  putRecordsCalls: number;
  putRecordsEntries: number;
  putRecordsThrottledEntries: number;
  /** PutRecord calls received and throttled. */
  putRecordCalls: number;
  putRecordThrottled: number;
  /** Records and bytes (data + partition key) accepted and passed to the backend. */
  acceptedRecords: number;
  acceptedBytes: number;
  /** GetRecords calls received, throttled, and data bytes returned. */
  getRecordsCalls: number;
  getRecordsThrottled: number;
  readBytes: number;
  /** First and last accepted write (ms since epoch), to compute a rate. */
  firstWriteAt?: number;
  lastWriteAt?: number;
  /** With `checkField`: distinct values accepted, and records whose value did not grow for their key. */
  check?: { distinct: number; duplicates: number; orderViolations: number };
}

function emptyStats(): LimitsStats {
  return {
    putRecordsCalls: 0,
    putRecordsEntries: 0,
    putRecordsThrottledEntries: 0,
    putRecordCalls: 0,
    putRecordThrottled: 0,
    acceptedRecords: 0,
    acceptedBytes: 0,
    getRecordsCalls: 0,
    getRecordsThrottled: 0,
    readBytes: 0,
  };
}

interface OrderCheck {
  lastByKey: Map<string, number>;
  seen: Set<number>;
  duplicates: number;
  violations: number;
}

/** Counters of every stream and of all together, and the per-stream order checks. */
export class LimitsCounters {
  private readonly perStream = new Map<string, LimitsStats>();
  private total = emptyStats();
  private readonly checks = new Map<string, OrderCheck>();

  /** Counters of one stream, or of all streams together. */
  stats(stream?: string): LimitsStats {
    const s = stream === undefined ? this.total : (this.perStream.get(stream) ?? emptyStats());
    const out = { ...s };
    const check = stream === undefined ? undefined : this.checks.get(stream);
    if (check) out.check = { distinct: check.seen.size, duplicates: check.duplicates, orderViolations: check.violations };
    return out;
  }

  reset(): void {
    this.total = emptyStats();
    this.perStream.clear();
    this.checks.clear();
  }

  /** Applies `f` to the stream's counters and to the total. */
  count(stream: string, f: (s: LimitsStats) => void): void {
    f(this.total);
    let s = this.perStream.get(stream);
    if (!s) this.perStream.set(stream, (s = emptyStats()));
    f(s);
  }

  /** Checks the accepted records' `field`: distinct values, and a value that grows per partition key. */
  check(stream: string, accepted: PutEntry[], results: PutResult[], field: string): void {
    let c = this.checks.get(stream);
    if (!c) this.checks.set(stream, (c = { lastByKey: new Map(), seen: new Set(), duplicates: 0, violations: 0 }));
    for (let i = 0; i < accepted.length; i++) {
      if (results[i].ErrorCode) continue;
      const value = Number(JSON.parse(Buffer.from(accepted[i].Data, "base64").toString("utf8"))[field]);
      if (c.seen.has(value)) c.duplicates++;
      else c.seen.add(value);
      const key = accepted[i].PartitionKey;
      const last = c.lastByKey.get(key);
      if (last !== undefined && value <= last) c.violations++;
      c.lastByKey.set(key, Math.max(value, last ?? -Infinity));
    }
  }
}
