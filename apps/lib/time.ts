/**
 * The one reading of a time given on the command line, shared by every app (subscribe --from, replay
 * --from/--to): ISO-8601 with a date, and a time zone whenever it has a time of day. A date alone is
 * midnight UTC. A time of day without a zone is refused instead of being read in the machine's zone:
 * archive keys and Kinesis timestamps are UTC, and the same command must mean the same on every machine.
 */

/** `2026-11-26`, or `2026-11-26T10:00[:00[.000]]` (`T` or a space) with `Z` or an offset `+01:00` / `+0100`. */
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Why `value` is not a time, in words that complete "… is not a time: <reason>", or the time. */
export function parseCliTime(value: string): Date | { problem: string } {
  const v = value.trim();
  const example = "write e.g. 2026-11-26T10:00:00Z (UTC) or 2026-11-26T11:00:00+01:00";
  const date = DATE.exec(v);
  const dateTime = date ? undefined : DATE_TIME.exec(v);
  if (!date && !dateTime) return { problem: `expected an ISO-8601 time; ${example}` };
  const [, y, mo, d, h = "00", mi = "00", s = "00", zone] = (date ?? dateTime) as RegExpExecArray;
  if (dateTime && !zone) {
    return { problem: `it has no time zone, and times are not read in this machine's zone; add Z for UTC or an offset: ${v.replace(" ", "T")}Z` };
  }
  const at = new Date(date ? `${v}T00:00:00Z` : v.replace(" ", "T"));
  // A calendar check: Date rolls 2026-02-30 over into March instead of refusing it.
  const fields = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  const valid =
    !Number.isNaN(at.getTime()) &&
    fields.getUTCFullYear() === Number(y) &&
    fields.getUTCMonth() === Number(mo) - 1 &&
    fields.getUTCDate() === Number(d) &&
    fields.getUTCHours() === Number(h) &&
    fields.getUTCMinutes() === Number(mi) &&
    fields.getUTCSeconds() === Number(s);
  if (!valid) return { problem: `no such ISO-8601 date or time (month, day or hour out of range); ${example}` };
  return at;
}

/** `parseCliTime`, throwing `makeError(message)` with a message that names the flag and the value. */
export function parseTimeFlag(flag: string, value: string, makeError: (message: string) => Error): Date {
  const parsed = parseCliTime(value);
  if (!(parsed instanceof Date)) throw makeError(`${flag} "${value}" is not a time: ${parsed.problem}`);
  return parsed;
}
