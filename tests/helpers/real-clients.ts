/**
 * Finds the real clients the interop tests drive against the local lake: boto3 (Python), AWS CLI v2 and
 * Go with aws-sdk-go. Debian packages them (`apt-get install -y python3-boto3 awscli golang-go
 * golang-github-aws-aws-sdk-go-dev`; `.ci/run` installs them). Each finder returns undefined, with the
 * reason, when its client is not there, so a test can skip with one line saying how to install it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";

export interface Found<T> {
  value?: T;
  /** Why it is missing and how to install it. */
  missing?: string;
}

const INSTALL = "apt-get update && apt-get install -y";

/** A Python with boto3: Debian's first (python3-boto3), then whatever `python3` is on PATH. */
export function findBoto3(): Found<{ python: string; version: string }> {
  for (const python of ["/usr/bin/python3", "python3"]) {
    const out = spawnSync(python, ["-c", "import boto3, botocore; print(botocore.__version__)"], { encoding: "utf8", timeout: 30_000 });
    if (out.status === 0) return { value: { python, version: out.stdout.trim() } };
  }
  return { missing: `boto3 is not installed (${INSTALL} python3-boto3)` };
}

/** AWS CLI version 2: Debian's (/usr/bin/aws) first, then `aws` on PATH. */
export function findAwsCliV2(): Found<{ aws: string; version: string }> {
  for (const aws of ["/usr/bin/aws", "aws"]) {
    const out = spawnSync(aws, ["--version"], { encoding: "utf8", timeout: 30_000 });
    const version = `${out.stdout ?? ""}${out.stderr ?? ""}`.trim();
    if (out.status === 0 && /^aws-cli\/2\./.test(version)) return { value: { aws, version } };
  }
  return { missing: `AWS CLI v2 is not installed (${INSTALL} awscli)` };
}

/** Where Debian puts Go packages (golang-github-aws-aws-sdk-go-dev) for a GOPATH build. */
export const DEBIAN_GOPATH = "/usr/share/gocode";

/** Go and aws-sdk-go (v1, GOPATH layout, as Debian ships it). */
export function findGoSdk(): Found<{ go: string }> {
  const out = spawnSync("go", ["version"], { encoding: "utf8", timeout: 30_000 });
  if (out.status !== 0) return { missing: `Go is not installed (${INSTALL} golang-go golang-github-aws-aws-sdk-go-dev)` };
  if (!fs.existsSync(`${DEBIAN_GOPATH}/src/github.com/aws/aws-sdk-go/service/kinesis`)) {
    return { missing: `aws-sdk-go is not installed (${INSTALL} golang-github-aws-aws-sdk-go-dev)` };
  }
  return { value: { go: "go" } };
}
