/**
 * The backup settings of the topology (`datalake:lake.backup`, `…segments.<segment>.backup`): off when
 * absent, defaults, leaving a segment out, and one message naming the path for every bad value (unknown
 * region, the stack's own region, another partition, bad days, names too long for a replica).
 */
import assert from "node:assert/strict";
import { BACKUP_DEFAULTS, CONFIG_KEY, ConfigProblem, LakeConfigError, parseLakeConfig } from "../../model/config";
import { loadStackTopology } from "../../runtime/topology";

const ctx = { project: "datalake", stack: "dev", region: "eu-west-1" };

/* eslint-disable @typescript-eslint/no-explicit-any */
function lake(backup?: unknown): Record<string, any> {
  return {
    layers: {
      ingest: { segments: { persons: {}, orders: {} } },
      curated: { segments: { adults: {} } },
    },
    ...(backup === undefined ? {} : { backup }),
  };
}

function problems(raw: unknown, context = ctx): ConfigProblem[] {
  try {
    parseLakeConfig(raw, context);
  } catch (e) {
    assert.ok(e instanceof LakeConfigError, String(e));
    return e.problems;
  }
  return assert.fail(`expected the config to be rejected: ${JSON.stringify(raw)}`);
}

/** The one problem of a config with one mistake: its path, value and message. */
function onlyProblem(raw: unknown, path: string, context = ctx): ConfigProblem {
  const found = problems(raw, context);
  assert.deepEqual(found.map((p) => p.path), [path], found.map((p) => `${p.path}: ${p.message}`).join("\n"));
  return found[0];
}

describe("config: backup", () => {
  it("is off when absent: no backup, no segment backed up", () => {
    const config = parseLakeConfig(lake(), ctx);
    assert.equal(config.backup, undefined);
    assert.ok(config.segments.every((s) => s.backup === false));
    // `backup:` with everything commented out reads as null: the same.
    assert.equal(parseLakeConfig(lake(null), ctx).backup, undefined);
  });

  it("backs up every segment with the defaults once a region is set", () => {
    const config = parseLakeConfig(lake({ region: "eu-central-1" }), ctx);
    assert.deepEqual(config.backup, { region: "eu-central-1", objectLockDays: 30, timeControl: false });
    assert.deepEqual(BACKUP_DEFAULTS, { objectLockDays: 30, timeControl: false });
    assert.ok(config.segments.every((s) => s.backup === true));
  });

  it("takes objectLockDays and timeControl, and leaves out a segment that says backup: false", () => {
    const raw = lake({ region: "us-east-2", objectLockDays: 90, timeControl: true });
    raw.layers.ingest.segments.orders = { backup: false };
    const config = parseLakeConfig(raw, ctx);
    assert.deepEqual(config.backup, { region: "us-east-2", objectLockDays: 90, timeControl: true });
    assert.deepEqual(config.segments.filter((s) => s.backup).map((s) => s.address), ["ingest/persons", "curated/adults"]);
  });

  it("rejects an unknown region, suggesting the one meant", () => {
    const p = onlyProblem(lake({ region: "eu-centrall-1" }), `${CONFIG_KEY}.backup.region`);
    assert.equal(p.value, "eu-centrall-1");
    assert.match(p.message, /is not an AWS region code; did you mean "eu-central-1"\?/);
    assert.match(onlyProblem(lake({ region: "frankfurt" }), `${CONFIG_KEY}.backup.region`).message, /is not an AWS region code; use one such as "eu-central-1"/);
  });

  it("rejects the stack's own region, and a region of another partition", () => {
    assert.match(onlyProblem(lake({ region: "eu-west-1" }), `${CONFIG_KEY}.backup.region`).message, /the stack's own region .*choose another region/);
    assert.match(
      onlyProblem(lake({ region: "cn-north-1" }), `${CONFIG_KEY}.backup.region`).message,
      /is in partition aws-cn but the stack's region eu-west-1 is in aws; S3 replicates only within a partition/,
    );
    // Without the stack's region (a tool that has none) only the region code itself is checked.
    assert.equal(parseLakeConfig(lake({ region: "eu-west-1" }), { project: "datalake", stack: "dev" }).backup?.region, "eu-west-1");
  });

  for (const days of [0, 1.5, 36501, "30", -1]) {
    it(`rejects objectLockDays ${JSON.stringify(days)} with its path and the allowed range`, () => {
      const p = onlyProblem(lake({ region: "eu-central-1", objectLockDays: days }), `${CONFIG_KEY}.backup.objectLockDays`);
      assert.deepEqual(p.value, days);
      assert.match(p.message, /objectLockDays .* must be a whole number from 1 to 36500/);
    });
  }

  it("rejects a missing region, a bad timeControl and an unknown key, each with its path", () => {
    assert.match(onlyProblem(lake({ objectLockDays: 30 }), `${CONFIG_KEY}.backup.region`).message, /region must be an AWS region code/);
    assert.match(onlyProblem(lake({ region: "eu-central-1", timeControl: "yes" }), `${CONFIG_KEY}.backup.timeControl`).message, /true or false/);
    assert.match(onlyProblem(lake({ regin: "eu-central-1", region: "eu-central-1" }), `${CONFIG_KEY}.backup.regin`).message, /allowed keys here are region, objectLockDays, timeControl; did you mean "region"/);
    assert.match(onlyProblem(lake("eu-central-1"), `${CONFIG_KEY}.backup`).message, /backup must be a map of region/);
  });

  it("rejects a segment's backup that is not a boolean, and backup: true without the lake's backup", () => {
    const raw = lake({ region: "eu-central-1" });
    raw.layers.ingest.segments.orders = { backup: "no" };
    assert.match(onlyProblem(raw, `${CONFIG_KEY}.layers.ingest.segments.orders.backup`).message, /backup must be true or false/);
    const off = lake();
    off.layers.ingest.segments.orders = { backup: true };
    assert.match(onlyProblem(off, `${CONFIG_KEY}.layers.ingest.segments.orders.backup`).message, /has no effect without datalake:lake\.backup/);
    // backup: false without the lake's backup is what it says: the segment has no backup.
    const quiet = lake();
    quiet.layers.ingest.segments.orders = { backup: false };
    assert.equal(parseLakeConfig(quiet, ctx).segments.find((s) => s.name === "orders")?.backup, false);
  });

  it("checks the replica bucket name's length for backed-up segments only", () => {
    // <lake>-<layer>-<segment> of 50 characters fits a segment bucket (63 with the account id) but not its replica.
    const segment = "s".repeat(50 - "lake-ingest-".length);
    const raw = { name: "lake", layers: { ingest: { segments: { [segment]: {} } } }, backup: { region: "eu-central-1" } };
    const p = onlyProblem(raw, `${CONFIG_KEY}.layers.ingest.segments.${segment}`);
    assert.match(p.message, /S3 replica bucket name .* would be 70 characters, over AWS's limit of 63; shorten .* by 7 \(or set backup: false for this segment\)/);
    (raw.layers.ingest.segments as Record<string, unknown>)[segment] = { backup: false };
    assert.doesNotThrow(() => parseLakeConfig(raw, ctx));
  });

  it("lists every backup problem in one message, each with its path", () => {
    const raw = lake({ region: "eu-west-1", objectLockDays: 0 });
    raw.layers.curated.segments.adults = { backup: 1 };
    const found = problems(raw);
    assert.deepEqual(found.map((p) => p.path).sort(), [
      `${CONFIG_KEY}.backup.objectLockDays`,
      `${CONFIG_KEY}.backup.region`,
      `${CONFIG_KEY}.layers.curated.segments.adults.backup`,
    ]);
  });

  it("the prod stack turns it on (Frankfurt for a lake in Ireland), the dev stack does not", () => {
    const prod = loadStackTopology("prod");
    assert.deepEqual(prod.backup, { region: "eu-central-1", objectLockDays: 30, timeControl: false });
    assert.ok(prod.segments.every((s) => s.backup));
    assert.equal(loadStackTopology("dev").backup, undefined);
  });
});
