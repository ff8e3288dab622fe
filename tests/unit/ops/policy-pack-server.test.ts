/**
 * The policy pack as the Pulumi engine runs it (`pulumi preview --policy-pack policy`), without the Pulumi
 * CLI: start policy/index.ts the way the engine does (cwd = the pack folder; it prints its gRPC port), then
 * ask it what the engine asks: its policies (GetAnalyzerInfo) and a verdict on a resource (Analyze).
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const structPb = require("google-protobuf/google/protobuf/struct_pb");
const emptyPb = require("google-protobuf/google/protobuf/empty_pb");
import { PROJECT_DIR } from "../../helpers/run-app";

describe("policy pack served to the engine", function () {
  this.timeout(60_000);
  let child: ChildProcess;
  let client: any;

  before(async () => {
    child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "index.ts"], {
      cwd: path.join(PROJECT_DIR, "policy"),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.once("data", (c: Buffer) => resolve(Number(c.toString().trim())));
      child.once("exit", (code) => reject(new Error(`the pack exited with ${code} before serving: ${stderr}`)));
    });
    assert.ok(port > 0);
    client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(() => {
    client?.close();
    child?.kill();
  });

  const call = (method: string, req: unknown) =>
    new Promise<any>((resolve, reject) => client[method](req, (err: Error | null, resp: any) => (err ? reject(err) : resolve(resp))));

  it("announces every rule of the pack, mandatory", async () => {
    const info = await call("getAnalyzerInfo", new emptyPb.Empty());
    assert.strictEqual(info.getName(), "datalake-guardrails");
    const names = info.getPoliciesList().map((p: any) => p.getName());
    assert.ok(names.includes("streams-encrypted-with-cmk") && names.includes("layers-isolated") && names.includes("alarms-name-their-resource"), names.join(", "));
    assert.ok(names.includes("tables-encrypted-with-cmk") && names.includes("tables-point-in-time-recovery"), names.join(", "));
    assert.strictEqual(names.length, 17);
  });

  const analyze = async (type: string, name: string, props: Record<string, unknown>) => {
    const req = new analyzerPb.AnalyzeRequest();
    req.setType(type);
    req.setName(name);
    req.setUrn(`urn:pulumi:dev::datalake::${type}::${name}`);
    req.setProperties(structPb.Struct.fromJavaScript(props));
    req.setOptions(new analyzerPb.AnalyzerResourceOptions()); // the engine always sends options
    const resp = await call("analyze", req);
    return resp.getDiagnosticsList().map((d: any) => [d.getPolicyname(), d.getMessage()]);
  };

  it("rejects an unencrypted stream and passes the lake's own kind of stream", async () => {
    const bad = await analyze("aws:kinesis/stream:Stream", "s", { name: "s", shardCount: 1, retentionPeriod: 24, encryptionType: "NONE" });
    assert.deepStrictEqual(bad.map((d: string[]) => d[0]), ["streams-encrypted-with-cmk"]);
    const good = await analyze("aws:kinesis/stream:Stream", "s", {
      name: "s",
      shardCount: 1,
      retentionPeriod: 24,
      encryptionType: "KMS",
      kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/abc",
    });
    assert.deepStrictEqual(good, []);
  });

  it("does not fail a resource whose key is not known yet in a preview (the engine's unknown value)", async () => {
    const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"; // how the engine sends a value not known before deploying
    const found = await analyze("aws:kinesis/stream:Stream", "s", { name: "s", shardCount: 1, retentionPeriod: 24, encryptionType: "KMS", kmsKeyId: UNKNOWN });
    assert.strictEqual(found.length, 1, JSON.stringify(found));
    assert.match(found[0][1], /can't run policy 'streams-encrypted-with-cmk' .* during preview: string value at \.kmsKeyId can't be known during preview/);
  });

  it("rejects a policy with a wildcard action", async () => {
    const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kinesis:*", Resource: "arn:aws:kinesis:eu-west-1:123456789012:stream/s" }] });
    const found = await analyze("aws:iam/policy:Policy", "p", { policy });
    assert.deepStrictEqual(found.map((d: string[]) => d[0]), ["iam-least-privilege"]);
  });

  it("rejects a replication rule that replicates delete markers, and passes the lake's own", async () => {
    const rule = (deleteMarkers: string) => ({
      id: "backup",
      status: "Enabled",
      filter: { prefix: "data/" },
      deleteMarkerReplication: { status: deleteMarkers },
      destination: { bucket: "arn:aws:s3:::b-backup" },
    });
    const type = "aws:s3/bucketReplicationConfig:BucketReplicationConfig";
    const bad = await analyze(type, "r", { bucket: "b", role: "arn:aws:iam::123456789012:role/r", rules: [rule("Enabled")] });
    assert.deepStrictEqual(bad.map((d: string[]) => d[0]), ["replication-skips-delete-markers"]);
    assert.deepStrictEqual(await analyze(type, "r", { bucket: "b", role: "arn:aws:iam::123456789012:role/r", rules: [rule("Disabled")] }), []);
  });
});
