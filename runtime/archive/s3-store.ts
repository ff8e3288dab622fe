/**
 * A segment's bucket on S3 as an `ArchiveStore`: ListObjectsV2 (paginated, at most 1,000 keys a page)
 * and GetObject, over HTTP/1.1 with deadlines like the apps' Kinesis client. The endpoint follows the
 * SDK's conventions (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL).
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { ArchiveStore } from "./local-store";

export interface S3ArchiveOptions {
  /** AWS region of the bucket. @default the SDK's chain (AWS_REGION, profile) */
  region?: string;
  /** Endpoint URL. @default AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, then AWS */
  endpoint?: string;
}

export class S3ArchiveStore implements ArchiveStore {
  readonly description: string;
  readonly client: S3Client;

  constructor(
    private readonly bucket: string,
    options: S3ArchiveOptions = {},
  ) {
    this.description = `s3://${bucket}`;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      maxAttempts: 3,
      requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 60_000 }),
    });
  }

  async *list(prefix: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async read(key: string): Promise<Buffer> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!out.Body) return Buffer.alloc(0);
    return Buffer.from(await out.Body.transformToByteArray());
  }

  close(): void {
    this.client.destroy();
  }
}
