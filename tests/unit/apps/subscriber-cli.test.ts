import * as assert from "assert";
import { CommanderError } from "commander";
import { buildProgram, formatSummary, parseFrom } from "../../../apps/subscriber/cli";

/** Parses argv like the CLI does; returns the options or the one-line error commander printed. */
function parse(...args: string[]): { opts?: Record<string, unknown>; error?: string } {
  let error = "";
  const program = buildProgram().configureOutput({ writeErr: (s) => (error += s), writeOut: () => undefined });
  try {
    program.parse(["node", "subscribe", ...args]);
    return { opts: program.opts() };
  } catch (err) {
    assert.ok(err instanceof CommanderError);
    return { error: error.trim() };
  }
}

describe("subscriber CLI flags", () => {
  it("defaults --from to latest and parses every flag", () => {
    assert.deepStrictEqual(parse("--stream", "s").opts?.from, { type: "latest" });
    const { opts } = parse("--stream", "s", "--from", "trim-horizon", "--max", "10", "--idle-timeout", "2.5", "--checkpoint", "c.json");
    assert.deepStrictEqual(opts, {
      stream: "s",
      from: { type: "trim-horizon" },
      max: 10,
      idleTimeout: 2.5,
      checkpoint: "c.json",
      callTimeout: 30,
      readsPerSecond: 2,
      leaseSeconds: 10,
    });
  });

  it("parses --group with --worker-id and --lease-seconds, and refuses it with --checkpoint, --max or --stream", () => {
    const { opts } = parse("--segment", "ingest/persons", "--group", "billing", "--worker-id", "host-a:1", "--lease-seconds", "20");
    assert.strictEqual(opts?.group, "billing");
    assert.strictEqual(opts?.workerId, "host-a:1");
    assert.strictEqual(opts?.leaseSeconds, 20);
    for (const other of [["--checkpoint", "c.json"], ["--max", "5"], ["--stream", "s"], ["--idle-timeout", "1"]]) {
      const { error } = parse("--segment", "ingest/persons", "--group", "billing", ...other);
      assert.match(error ?? "", /cannot be used with option/, other.join(" "));
    }
    assert.match(parse("--group", "billing", "--lease-seconds", "0.5").error ?? "", /--lease-seconds.*from 1 to 600/);
    assert.match(parse("--group", "billing", "--worker-id", "a b").error ?? "", /--worker-id.*without spaces/);
  });

  it("accepts ISO-8601 times for --from, and TRIM_HORIZON/LATEST spelled the AWS way", () => {
    const now = new Date("2025-01-02T00:00:00Z");
    assert.deepStrictEqual(parseFrom("2025-01-01T12:30:00Z", now), { type: "at-timestamp", at: new Date("2025-01-01T12:30:00Z") });
    assert.deepStrictEqual(parseFrom("2025-01-01T12:30:00.5+02:00", now), {
      type: "at-timestamp",
      at: new Date("2025-01-01T10:30:00.500Z"),
    });
    assert.deepStrictEqual(parseFrom("TRIM_HORIZON", now), { type: "trim-horizon" });
    assert.deepStrictEqual(parseFrom("LATEST", now), { type: "latest" });
  });

  for (const [flag, value, allowed] of [
    ["--from", "yesterday", /trim-horizon, latest or an ISO-8601 time/],
    ["--from", "2025-13-45T00:00:00Z", /ISO-8601/],
    ["--from", "2999-01-01T00:00:00Z", /in the future/],
    ["--max", "0", /whole number of at least 1/],
    ["--max", "1.5", /whole number/],
    ["--idle-timeout", "-1", /seconds greater than 0/],
    ["--idle-timeout", "soon", /seconds greater than 0/],
  ] as const) {
    it(`rejects ${flag} ${value} in one line naming the flag and what is allowed`, () => {
      const { error } = parse("--stream", "s", flag, value);
      assert.ok(error, "accepted");
      assert.ok(!error.includes("\n"), error);
      assert.ok(error.includes(flag), error);
      assert.match(error, allowed);
    });
  }

  it("summarises a run in one line", () => {
    const line = formatSummary({ records: 3, bytes: 30, shardsRead: 2, durationMs: 1234, throttles: 1, retries: 0, stopReason: "max" });
    assert.strictEqual(line, "summary: 3 records (30 bytes) from 2 shard(s) in 1.2 s; 1 throttled and 0 retried calls; stopped: --max reached");
  });
});
