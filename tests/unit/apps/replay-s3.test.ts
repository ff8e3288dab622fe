/**
 * The S3 archive store pages through ListObjectsV2 (at most 1,000 keys a page) with continuation tokens
 * and reads objects whole. No S3 emulator is available here, so the client's `send` is stubbed.
 */
import * as assert from "assert";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { S3ArchiveStore } from "../../../runtime/archive/s3-store";

describe("S3 archive store", () => {
  it("follows NextContinuationToken until the listing is no longer truncated", async () => {
    const store = new S3ArchiveStore("bucket", { region: "eu-west-1" });
    const calls: unknown[] = [];
    const pages: Record<string, { Contents: { Key: string }[]; IsTruncated: boolean; NextContinuationToken?: string }> = {
      start: { Contents: [{ Key: "data/a" }, { Key: "data/b" }], IsTruncated: true, NextContinuationToken: "t1" },
      t1: { Contents: [{ Key: "data/c" }], IsTruncated: false },
    };
    (store.client as unknown as { send: (c: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      assert.ok(command instanceof ListObjectsV2Command);
      calls.push(command.input);
      return pages[command.input.ContinuationToken ?? "start"];
    };
    const keys: string[] = [];
    for await (const key of store.list("data/")) keys.push(key);
    assert.deepStrictEqual(keys, ["data/a", "data/b", "data/c"]);
    assert.deepStrictEqual(calls, [
      { Bucket: "bucket", Prefix: "data/", ContinuationToken: undefined },
      { Bucket: "bucket", Prefix: "data/", ContinuationToken: "t1" },
    ]);
    store.close();
  });

  it("reads an object's bytes as stored", async () => {
    const store = new S3ArchiveStore("bucket", { region: "eu-west-1" });
    (store.client as unknown as { send: (c: unknown) => Promise<unknown> }).send = async (command: unknown) => {
      assert.ok(command instanceof GetObjectCommand);
      assert.deepStrictEqual(command.input, { Bucket: "bucket", Key: "data/k.gz" });
      return { Body: { transformToByteArray: async () => new Uint8Array([1, 2, 3]) } };
    };
    assert.deepStrictEqual([...(await store.read("data/k.gz"))], [1, 2, 3]);
    store.close();
  });
});
