/**
 * The embedded local lake: kinesis-local with one stream per segment of a stack's topology, under the
 * same physical names the deployed lake uses. State persists in `.datalake/local/` so a publish run and
 * a later subscribe run see the same records.
 */
import { KinesisClient } from "@aws-sdk/client-kinesis";
import * as fs from "fs";
import * as path from "path";
import { LakeConfig } from "../model/config";
import type { Catalog } from "../model/catalog";
import { catalogFromConfig } from "../apps/lib/catalog";
import { createKinesisClient } from "../apps/lib/client";
import { UserError } from "../apps/lib/errors";
import { startLocalKinesis } from "./kinesis";
import { ensureStream } from "../apps/lib/streams";
import { loadStackTopology, localStackName, PROJECT_DIR } from "../apps/lib/topology";

export interface LocalLakeOptions {
  /** Stack whose topology to use. @default DATALAKE_STACK, then "dev" */
  stack?: string;
  /** Folder for the lake's state (streams, wire-tap objects). @default DATALAKE_LOCAL_DIR, then "<project>/.datalake/local" */
  dataDir?: string;
  /** Keep stream contents between runs. @default true */
  persist?: boolean;
  /** Receives progress lines. @default discard */
  log?: (line: string) => void;
}

export interface LocalLake {
  endpoint: string;
  client: KinesisClient;
  config: LakeConfig;
  catalog: Catalog;
  /** `Pulumi.<stack>.yaml` the topology came from. */
  stackFile: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Local folder standing in for an S3 bucket (a catalog entry's `bucketName`). */
export function localBucketDir(dataDir: string, bucketName: string): string {
  return path.join(dataDir, "s3", bucketName);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** One process at a time owns a persisted local lake; a second would overwrite the first one's state. */
function takeLock(dir: string): () => void {
  const lock = path.join(dir, "lock");
  fs.mkdirSync(dir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
      return () => fs.rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number(fs.readFileSync(lock, "utf8"));
      if (owner && isAlive(owner)) {
        throw new UserError(
          `the local lake in ${dir} is in use by process ${owner}; run one app at a time, or start \`npm run local-lake\` and point the apps at it with AWS_ENDPOINT_URL_KINESIS`,
        );
      }
      fs.rmSync(lock, { force: true }); // left behind by a process that died
    }
  }
  throw new UserError(`cannot lock the local lake in ${dir}; remove ${lock} if no app is running`);
}

export async function startLocalLake(options: LocalLakeOptions = {}): Promise<LocalLake> {
  const stack = options.stack ?? localStackName();
  const config = loadStackTopology(stack);
  const dataDir = path.resolve(options.dataDir ?? process.env.DATALAKE_LOCAL_DIR ?? path.join(PROJECT_DIR, ".datalake", "local"));
  const persist = options.persist ?? true;
  const log = options.log ?? (() => undefined);
  const release = persist ? takeLock(dataDir) : () => undefined;
  let emulator;
  try {
    emulator = await startLocalKinesis({ persistDir: persist ? path.join(dataDir, "kinesis") : undefined });
  } catch (err) {
    release();
    throw err;
  }
  const client = createKinesisClient({ endpoint: emulator.endpoint });
  const stop = async () => {
    client.destroy();
    await emulator.stop();
    release();
  };
  try {
    const catalog = catalogFromConfig(config);
    await Promise.all(
      config.segments.map((segment) =>
        ensureStream(client, { name: catalog[segment.address].streamName, shards: segment.shards }),
      ),
    );
    log(`local lake: ${config.segments.length} segment streams of Pulumi.${stack}.yaml ready at ${emulator.endpoint}`);
    return { endpoint: emulator.endpoint, client, config, catalog, stackFile: `Pulumi.${stack}.yaml`, dataDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
