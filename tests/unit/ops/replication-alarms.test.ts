/**
 * The backup's alarms and dashboard rows as pure data (model/alarms.ts `replicationAlarms`,
 * model/dashboard.ts), without Pulumi: which metric in which region, thresholds with and without
 * Replication Time Control, and nothing for segments that are not backed up or whose alarms are off.
 */
import * as assert from "assert";
import { REPLICATION_DIMENSIONS, replicationAlarms, requiredDimensions } from "../../../model/alarms";
import { parseLakeConfig } from "../../../model/config";
import { dashboardBodies } from "../../../model/dashboard";

const ACCOUNT = "123456789012";
const lake = (backup: Record<string, unknown>) =>
  parseLakeConfig(
    {
      name: "acme",
      backup,
      layers: {
        ingest: { segments: { persons: {}, orders: { backup: false }, quiet: { alarms: { enabled: false } } } },
        curated: { segments: { adults: {} } },
      },
    },
    { project: "datalake", stack: "test", region: "eu-west-1" },
  );
const config = lake({ region: "eu-central-1" });
const segment = (name: string) => config.segments.find((s) => s.name === name)!;

describe("replication alarms and dashboard rows", () => {
  it("alarms on failed operations in the stack's region and on latency in the backup region, with the rule's full dimensions", () => {
    const { sourceRegion, backupRegion } = replicationAlarms("acme", segment("persons"), config.backup, ACCOUNT);
    assert.deepStrictEqual(sourceRegion.map((a) => [a.alarmName, a.metricName, a.statistic, a.threshold]), [
      ["acme-ingest-persons-replication-failed", "OperationsFailedReplication", "Sum", 0],
    ]);
    assert.deepStrictEqual(backupRegion.map((a) => [a.alarmName, a.metricName, a.statistic, a.threshold]), [
      ["acme-ingest-persons-replication-latency", "ReplicationLatency", "Maximum", 3600],
    ]);
    for (const a of [...sourceRegion, ...backupRegion]) {
      assert.strictEqual(a.namespace, "AWS/S3");
      assert.deepStrictEqual(a.dimensions, {
        SourceBucket: `acme-ingest-persons-${ACCOUNT}`,
        DestinationBucket: `acme-ingest-persons-${ACCOUNT}-backup`,
        RuleId: "backup",
      });
      assert.deepStrictEqual(requiredDimensions(a.namespace, a.metricName), REPLICATION_DIMENSIONS);
      // AWS: "set the Missing data treatment field to Treat missing data as ignore" for replication metrics.
      assert.strictEqual(a.treatMissingData, "ignore");
      assert.ok(a.missingDataReason.length > 20 && a.description.includes("backup"));
    }
  });

  it("holds the latency alarm to Replication Time Control's 15 minutes when it is on", () => {
    const rtc = lake({ region: "eu-central-1", timeControl: true });
    const [latency] = replicationAlarms("acme", rtc.segments[0], rtc.backup, ACCOUNT).backupRegion;
    assert.strictEqual(latency.threshold, 900);
    assert.match(latency.description, /Replication Time Control/);
  });

  it("declares none for a segment left out, for one whose alarms are off, and without a backup", () => {
    for (const s of [segment("orders"), segment("quiet")]) {
      assert.deepStrictEqual(replicationAlarms("acme", s, config.backup, ACCOUNT), { sourceRegion: [], backupRegion: [] });
    }
    const off = lake({ region: "eu-central-1" });
    assert.deepStrictEqual(replicationAlarms("acme", off.segments[0], undefined, ACCOUNT), { sourceRegion: [], backupRegion: [] });
  });

  it("adds a row of three graphs below each backed-up segment's row, its latency and pending graphs in the backup region", () => {
    const [body] = dashboardBodies(config, "eu-west-1", [], undefined, ACCOUNT);
    const backupWidgets = body.widgets.filter((w) => String(w.properties.title ?? "").includes(": backup"));
    // persons, quiet (alarms off, still backed up: the graphs do not depend on alarms) and adults; not orders.
    assert.deepStrictEqual([...new Set(backupWidgets.map((w) => String(w.properties.title).split(":")[0]))].sort(), [
      "curated/adults",
      "ingest/persons",
      "ingest/quiet",
    ]);
    assert.strictEqual(backupWidgets.length, 9);
    for (const w of backupWidgets) {
      const title = String(w.properties.title);
      assert.strictEqual(w.properties.region, title.includes("failed") ? "eu-west-1" : "eu-central-1", title);
      for (const line of w.properties.metrics as unknown[][]) {
        assert.deepStrictEqual([line[0], line[2], line[4], line[6]], ["AWS/S3", ...REPLICATION_DIMENSIONS], title);
        assert.ok(String(line[3]).endsWith(ACCOUNT), title);
      }
    }
    // Rows never overlap: the backup row sits below its segment's row.
    const persons = body.widgets.filter((w) => String(w.properties.title ?? "").startsWith("ingest/persons:"));
    const ys = [...new Set(persons.map((w) => w.y))].sort((a, b) => a - b);
    assert.strictEqual(ys.length, 2);
    assert.strictEqual(ys[1] - ys[0], 6);
  });

  it("draws no backup row without a backup, and the same number of dashboards whatever the account id", () => {
    const none = parseLakeConfig({ name: "acme", layers: { ingest: { segments: { persons: {} } } } }, { project: "datalake", stack: "test" });
    assert.ok(!JSON.stringify(dashboardBodies(none, "eu-west-1")).includes("AWS/S3"));
    assert.strictEqual(dashboardBodies(config, "", [], undefined).length, dashboardBodies(config, "eu-west-1", [], undefined, ACCOUNT).length);
  });
});
