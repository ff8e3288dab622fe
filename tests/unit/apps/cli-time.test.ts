/**
 * One reading of command-line times for every app (apps/lib/time.ts): a date alone is midnight UTC, a time
 * of day needs a zone, impossible dates are refused; subscribe's --from and replay's --from/--to agree.
 */
import * as assert from "assert";
import { InvalidArgumentError } from "commander";
import { parseCliTime } from "../../../apps/lib/time";
import { parseTime } from "../../../apps/replay/main";
import { parseFrom } from "../../../apps/subscriber/cli";
import { UserError } from "../../../runtime/errors";

const NOW = new Date("2027-01-01T00:00:00Z");

describe("command-line times (every app)", () => {
  for (const [text, iso] of [
    ["2026-11-26", "2026-11-26T00:00:00.000Z"],
    ["2026-11-26T10:00Z", "2026-11-26T10:00:00.000Z"],
    ["2026-11-26T10:00:30.250Z", "2026-11-26T10:00:30.250Z"],
    ["2026-11-26 11:00:00+01:00", "2026-11-26T10:00:00.000Z"],
    ["2026-11-26T05:00:00-0500", "2026-11-26T10:00:00.000Z"],
  ] as const) {
    it(`reads ${text} as ${iso} in subscribe and replay alike`, () => {
      assert.strictEqual((parseCliTime(text) as Date).toISOString(), iso);
      assert.strictEqual(parseTime("--from", text).toISOString(), iso);
      assert.deepStrictEqual(parseFrom(text, NOW), { type: "at-timestamp", at: new Date(iso) });
    });
  }

  for (const [text, why] of [
    ["2026-11-26T10:00", /no time zone.*add Z for UTC or an offset: 2026-11-26T10:00Z/],
    ["2026-11-26 10:00:00", /no time zone.*2026-11-26T10:00:00Z/],
    ["2026-02-30", /no such ISO-8601 date/],
    ["2026-11-26T24:00:00Z", /no such ISO-8601 date/],
    ["26/11/2026", /expected an ISO-8601 time/],
  ] as const) {
    it(`refuses ${text} in subscribe and replay alike`, () => {
      const parsed = parseCliTime(text);
      assert.ok(!(parsed instanceof Date));
      assert.match(parsed.problem, why);
      assert.throws(() => parseTime("--from", text), (err: Error) => err instanceof UserError && why.test(err.message) && err.message.startsWith(`--from "${text}" is not a time: `));
      if (/^\d{4}-/.test(text)) assert.throws(() => parseFrom(text, NOW), (err: Error) => err instanceof InvalidArgumentError && why.test(err.message));
    });
  }
});
