/**
 * The direct PutRecords path must put the same bytes on the wire as the SDK's own serializer (so the
 * signature and payload hash are what AWS expects) and read responses into the same output, errors
 * included. Both clients send through a handler that records the request and answers a canned response.
 */
import * as assert from "assert";
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
import { Readable } from "stream";
import { KinesisClient, PutRecordsCommand, PutRecordsCommandInput, ListShardsCommand } from "@aws-sdk/client-kinesis";
import { FastPutRecordsProtocol, putRecordsBody } from "../../../runtime/put-records-protocol";

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

interface Seen {
  body: Buffer;
  headers: Record<string, string>;
  out?: unknown;
  error?: { name: string; message: string; code?: unknown };
}

async function roundTrip(fast: boolean, command: PutRecordsCommand | ListShardsCommand, answer: Answer): Promise<Seen> {
  let request: { body: unknown; headers: Record<string, string> } | undefined;
  const client = new KinesisClient({
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    maxAttempts: 1,
    requestHandler: {
      handle: async (req: { body: unknown; headers: Record<string, string> }) => {
        request = req;
        return {
          response: {
            statusCode: answer.status,
            headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amzn-RequestId": "req-1", ...answer.headers },
            body: Readable.from([Buffer.from(answer.body)]),
          },
        };
      },
    } as any,
    ...(fast ? { protocol: FastPutRecordsProtocol } : {}),
  });
  const seen: Partial<Seen> = {};
  try {
    seen.out = await client.send(command as any);
  } catch (err) {
    const e = err as Error & { $fault?: unknown };
    seen.error = { name: e.name, message: e.message, code: e.$fault };
  }
  assert.ok(request, "the request reached the handler");
  const body = request.body;
  // The SDK's own body is a Uint8Array subclass whose toString warns; read its bytes.
  seen.body = body instanceof Uint8Array ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : Buffer.from(String(body));
  const headers = { ...request.headers };
  // Per-call values: the invocation id is random and the signature covers it.
  for (const name of ["amz-sdk-invocation-id", "authorization", "x-amz-date"]) delete headers[name];
  seen.headers = headers;
  client.destroy();
  return seen as Seen;
}

/** Deterministic pseudo-random inputs: keys across the Unicode planes, binary data, optional hash keys. */
function* inputs(): Generator<PutRecordsCommandInput> {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const alphabet = ['a', 'Z', '0', '"', "\\", "/", "\n", "\t", "\u0000", "\u001f", "\u007f", "é", "\u2028", "\u2029", "日", "😀", "\ud800", " "];
  for (let i = 0; i < 40; i++) {
    const records = Array.from({ length: 1 + rnd(12) }, () => {
      const key = Array.from({ length: 1 + rnd(20) }, () => alphabet[rnd(alphabet.length)]).join("");
      // Mostly small data (encoded in place), sometimes bigger than the in-place limit (Node's encoder).
      const data = Buffer.from(Array.from({ length: rnd(8) === 0 ? 150 + rnd(300) : rnd(70) }, () => rnd(256)));
      return rnd(3) === 0 ? { Data: data, PartitionKey: key, ExplicitHashKey: String(BigInt(rnd(1e9)) * 10n ** 29n) } : { Data: data, PartitionKey: key };
    });
    yield rnd(4) === 0
      ? { StreamARN: `arn:aws:kinesis:us-east-1:123456789012:stream/s${i}`, Records: records }
      : { StreamName: `stream-${i}`, Records: records };
  }
}

const OK_BODY = JSON.stringify({
  FailedRecordCount: 1,
  EncryptionType: "KMS",
  Records: [
    // kinesis-local writes null for the members a stored record lacks; the SDK leaves them out.
    { ErrorCode: null, ErrorMessage: null, SequenceNumber: "49590338271490256608559692538361571095921575989136588898", ShardId: "shardId-000000000000", Extra: 1 },
    { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded for shard shardId-000000000001" },
  ],
});

describe("PutRecords wire protocol (direct path)", () => {
  it("writes the same request bytes and headers as the SDK's serializer for the same input", async () => {
    let compared = 0;
    for (const input of inputs()) {
      const sdk = await roundTrip(false, new PutRecordsCommand(input), { status: 200, body: OK_BODY });
      const fast = await roundTrip(true, new PutRecordsCommand(input), { status: 200, body: OK_BODY });
      assert.strictEqual(fast.body.toString("latin1"), sdk.body.toString("latin1"), `body for ${JSON.stringify(input.Records?.[0]?.PartitionKey)}`);
      assert.deepStrictEqual(fast.headers, sdk.headers);
      compared++;
    }
    assert.strictEqual(compared, 40);
  });

  it("writes a body bigger than its scratch space (records near the 5 MiB request limit) as the SDK does, and the next small one too", async () => {
    const big = { StreamName: "s", Records: [1, 2, 3, 4].map((i) => ({ Data: Buffer.alloc(1_000_000, i), PartitionKey: `k${i}` })) };
    const small = { StreamName: "s", Records: [{ Data: Buffer.from("after"), PartitionKey: "k" }] };
    for (const input of [big, small]) {
      const sdk = await roundTrip(false, new PutRecordsCommand(input), { status: 200, body: OK_BODY });
      const fast = await roundTrip(true, new PutRecordsCommand(input), { status: 200, body: OK_BODY });
      assert.ok(fast.body.equals(sdk.body), `${fast.body.length} bytes vs the SDK's ${sdk.body.length}`);
    }
  });

  it("writes only PutRecords' own members of an entry (as the SDK does), whatever else the object holds", () => {
    const entry = Object.assign({ Data: Buffer.from("x"), PartitionKey: "k" }, { size: 2, deadline: 5, users: [] });
    assert.strictEqual(putRecordsBody({ StreamName: "s", Records: [entry] })?.toString(), '{"Records":[{"Data":"eA==","PartitionKey":"k"}],"StreamName":"s"}');
  });

  it("leaves inputs it does not know how to write to the SDK (and still sends what the SDK would)", async () => {
    const odd = { StreamName: "s", Records: [{ Data: Buffer.from("x") }], Unknown: 1 } as unknown as PutRecordsCommandInput;
    assert.strictEqual(putRecordsBody(odd as unknown as Record<string, unknown>), undefined);
    const sdk = await roundTrip(false, new PutRecordsCommand(odd), { status: 200, body: OK_BODY });
    const fast = await roundTrip(true, new PutRecordsCommand(odd), { status: 200, body: OK_BODY });
    assert.strictEqual(fast.body.toString(), sdk.body.toString());
  });

  it("reads a response into the same output, per-entry errors and metadata included", async () => {
    const input = { StreamName: "s", Records: [{ Data: Buffer.from("a"), PartitionKey: "a" }, { Data: Buffer.from("b"), PartitionKey: "b" }] };
    const answer = { status: 200, body: OK_BODY.replace("{", '{"SomethingNew":{"x":1},') };
    const sdk = await roundTrip(false, new PutRecordsCommand(input), answer);
    const fast = await roundTrip(true, new PutRecordsCommand(input), answer);
    assert.deepStrictEqual(fast.out, sdk.out);
    assert.strictEqual((fast.out as { $metadata: { requestId?: string } }).$metadata.requestId, "req-1");
  });

  it("fails a request with the SDK's own error for an error response", async () => {
    const input = { StreamName: "missing", Records: [{ Data: Buffer.from("a"), PartitionKey: "a" }] };
    for (const [status, type] of [
      [400, "ResourceNotFoundException"],
      [400, "ProvisionedThroughputExceededException"],
      [500, "InternalFailure"],
    ] as const) {
      const answer = { status, body: JSON.stringify({ __type: type, message: `the ${type}` }) };
      const sdk = await roundTrip(false, new PutRecordsCommand(input), answer);
      const fast = await roundTrip(true, new PutRecordsCommand(input), answer);
      assert.ok(sdk.error && fast.error, `${type} rejects`);
      assert.deepStrictEqual(fast.error, sdk.error);
      assert.strictEqual(fast.error!.name, type);
    }
  });

  it("leaves other operations to the SDK", async () => {
    const answer = { status: 200, body: JSON.stringify({ Shards: [{ ShardId: "shardId-000000000000", HashKeyRange: { StartingHashKey: "0", EndingHashKey: "1" }, SequenceNumberRange: { StartingSequenceNumber: "1" } }] }) };
    const sdk = await roundTrip(false, new ListShardsCommand({ StreamName: "s" }), answer);
    const fast = await roundTrip(true, new ListShardsCommand({ StreamName: "s" }), answer);
    assert.strictEqual(fast.body.toString(), sdk.body.toString());
    assert.deepStrictEqual(fast.out, sdk.out);
  });
});
