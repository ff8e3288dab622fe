/**
 * The `alarms` settings of a segment and the lake's `alerts`: defaults, ranges and unknown keys.
 */
import * as assert from "assert";
import { ALARM_DEFAULTS, CONFIG_KEY, LakeConfigError, parseLakeConfig } from "../../../model/config";

const ctx = { project: "datalake", stack: "dev" };
const lake = (persons: unknown, extra: Record<string, unknown> = {}) => ({
  layers: { ingest: { segments: { persons, orders: {} } } },
  ...extra,
});
const problems = (raw: unknown) => {
  try {
    parseLakeConfig(raw, ctx);
  } catch (err) {
    assert.ok(err instanceof LakeConfigError);
    return err.problems;
  }
  throw new Error("expected a LakeConfigError");
};
const SEG = `${CONFIG_KEY}.layers.ingest.segments.persons`;

describe("config: alarms and alerts", () => {
  it("applies the alarm defaults to a segment without alarms, and no e-mail", () => {
    const cfg = parseLakeConfig(lake({}), ctx);
    assert.deepStrictEqual(cfg.segments[0].alarms, ALARM_DEFAULTS);
    assert.deepStrictEqual(ALARM_DEFAULTS, { enabled: true, iteratorAgePercentOfRetention: 50, freshnessMarginSeconds: 300 });
    assert.deepStrictEqual(cfg.alerts, { email: undefined });
  });

  it("takes a segment's alarm settings and the lake's e-mail", () => {
    const cfg = parseLakeConfig(
      lake({ alarms: { enabled: false, iteratorAgePercentOfRetention: 25, freshnessMarginSeconds: 120 } }, { alerts: { email: "oncall@example.com" } }),
      ctx,
    );
    assert.deepStrictEqual(cfg.segments[0].alarms, { enabled: false, iteratorAgePercentOfRetention: 25, freshnessMarginSeconds: 120 });
    assert.deepStrictEqual(cfg.segments[1].alarms, ALARM_DEFAULTS);
    assert.strictEqual(cfg.alerts.email, "oncall@example.com");
  });

  it("reports every bad alarm value with its path, and unknown keys with the allowed ones", () => {
    const found = problems(
      lake({ alarms: { enabled: "yes", iteratorAgePercentOfRetention: 100, freshnessMarginSeconds: 5, iteratorAge: 3 } }, { alerts: { email: "nobody" } }),
    );
    const at = (path: string) => found.find((p) => p.path === path)?.message ?? "";
    assert.match(at(`${SEG}.alarms.enabled`), /true or false/);
    assert.match(at(`${SEG}.alarms.iteratorAgePercentOfRetention`), /from 1 to 99/);
    assert.match(at(`${SEG}.alarms.freshnessMarginSeconds`), /from 60 to 86400/);
    assert.match(at(`${SEG}.alarms.iteratorAge`), /allowed keys here are enabled, iteratorAgePercentOfRetention, freshnessMarginSeconds/);
    assert.match(at(`${CONFIG_KEY}.alerts.email`), /e-mail address/);
  });

  it("lists the alerts keys for an unknown key under alerts", () => {
    const found = problems(lake({}, { alerts: { mail: "a@b.c" } }));
    assert.match(found.find((p) => p.path === `${CONFIG_KEY}.alerts.mail`)?.message ?? "", /allowed keys here are email; did you mean "email"/);
  });
});
