/**
 * Where replay reads a segment's archive: which catalog names the segment's bucket, and whether that
 * bucket is on S3 or is the local lake's folder. In the order:
 *   1. `--archive-dir DIR` or DATALAKE_ARCHIVE_DIR: a folder holding one folder per bucket (the local
 *      lake's `<dataDir>/s3`), for a lake started with `npm run local-lake`;
 *   2. with no AWS target configured: the embedded local lake's folder (DATALAKE_LOCAL_DIR or
 *      .datalake/local/<stack>);
 *   3. a catalog written by a local lake (its entries name `localArchiveDir`): that lake's folder;
 *   4. otherwise the segment's bucket on S3.
 * With `--from-backup` each of them reads the segment's replica instead (the catalog's `backup`): the
 * replica's folder, or the replica bucket on S3 in the backup region.
 */
import * as path from "path";
import { ArchiveStore, LocalArchiveStore } from "../../runtime/archive/local-store";
import { Catalog, catalogFromConfig, catalogFromPulumi, CATALOG_HINT, CatalogEntry, entryRegion, LOCAL_ACCOUNT, lookupSegment, readCatalogFile } from "../../runtime/catalog";
import { UserError } from "../../runtime/errors";
import { awsTargetConfigured, TargetOptions } from "../lib/target";
import { loadStackTopology, localLakeDir, localStackName, stackRegion } from "../../runtime/topology";
import { S3ArchiveStore } from "../../runtime/archive/s3-store";

export interface ArchiveSource {
  store: ArchiveStore;
  /** The source segment's catalog entry. */
  entry: CatalogEntry;
  catalog: Catalog;
  /** One line for the log: which archive, and why. */
  description: string;
  close(): void;
}

export interface ArchiveSourceOptions extends TargetOptions {
  /** Folder of bucket folders. @default DATALAKE_ARCHIVE_DIR, else the local lake's or S3 */
  archiveDir?: string;
  /** Read the segment's replica in the backup region instead of its bucket. @default false */
  fromBackup?: boolean;
}

/** The bucket replay reads: the segment's own, or with `fromBackup` its replica (region and local folder included). */
function archiveBucket(entry: CatalogEntry, segment: string, source: string, fromBackup: boolean | undefined): { bucketName: string; region?: string; localArchiveDir?: string; what: string } {
  if (!fromBackup) {
    if (!entry.bucketName) throw new UserError(`the catalog entry of ${segment} in ${source} has no bucketName; use the stack's catalog output`);
    return { bucketName: entry.bucketName, localArchiveDir: entry.localArchiveDir, what: "archive" };
  }
  if (!entry.backup) {
    throw new UserError(`${segment} has no backup in ${source} (datalake:lake.backup is not set, or the segment sets backup: false); replay its own archive without --from-backup`);
  }
  return { ...entry.backup, what: `backup (${entry.backup.region})` };
}

/** The local lake's folder of buckets: `<DATALAKE_LOCAL_DIR or .datalake/local>/s3`. */
/**
 * The folder holding the local lake's buckets: the one named by the catalog the lake printed
 * (DATALAKE_CATALOG, whose entries carry `localArchiveDir`), else the stack's local lake folder.
 */
export function localArchiveRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DATALAKE_CATALOG) {
    let catalog: Catalog | undefined;
    try {
      catalog = readCatalogFile(env.DATALAKE_CATALOG);
    } catch {
      catalog = undefined; // not readable here: the app that needs its entries reports that
    }
    const entry = Object.values(catalog ?? {}).find((e) => e.localArchiveDir && e.bucketName);
    if (entry) return path.dirname(entry.localArchiveDir!);
  }
  return path.join(localLakeDir(localStackName(env), env), "s3");
}

function localCatalog(env: NodeJS.ProcessEnv): { catalog: Catalog; source: string } {
  const stack = localStackName(env);
  return { catalog: catalogFromConfig(loadStackTopology(stack), { ...LOCAL_ACCOUNT, region: stackRegion(stack) ?? LOCAL_ACCOUNT.region }), source: `the local lake (Pulumi.${stack}.yaml)` };
}

function awsCatalog(opts: TargetOptions, env: NodeJS.ProcessEnv): { catalog: Catalog; source: string } {
  const file = opts.catalog ?? env.DATALAKE_CATALOG;
  if (file) return { catalog: readCatalogFile(file), source: `catalog ${file}` };
  const fromCli = catalogFromPulumi();
  if (fromCli) return { catalog: fromCli, source: "the current Pulumi stack's catalog" };
  throw new UserError(`no catalog to find the archive of --segment; ${CATALOG_HINT}`);
}

export function resolveArchiveSource(segment: string, opts: ArchiveSourceOptions, env: NodeJS.ProcessEnv = process.env): ArchiveSource {
  const dir = opts.archiveDir ?? env.DATALAKE_ARCHIVE_DIR;
  const local = !awsTargetConfigured(opts, env);
  if (dir || local) {
    const { catalog, source } = opts.catalog || env.DATALAKE_CATALOG ? awsCatalog(opts, env) : localCatalog(env);
    const entry = lookupSegment(catalog, segment, source);
    const bucket = archiveBucket(entry, segment, source, opts.fromBackup);
    const root = dir ? path.resolve(dir) : localArchiveRoot(env);
    const bucketDir = path.join(root, bucket.bucketName);
    return {
      store: new LocalArchiveStore(bucketDir),
      entry,
      catalog,
      description: `${bucket.what}: ${path.relative(process.cwd(), bucketDir) || "."} (${dir ? "--archive-dir" : "the local lake"}), segment ${segment} from ${source}`,
      close: () => undefined,
    };
  }
  const { catalog, source } = awsCatalog(opts, env);
  const entry = lookupSegment(catalog, segment, source);
  const bucket = archiveBucket(entry, segment, source, opts.fromBackup);
  if (bucket.localArchiveDir) {
    // A catalog a local lake wrote (`npm run local-lake`): its archive is that lake's folder.
    return {
      store: new LocalArchiveStore(bucket.localArchiveDir),
      entry,
      catalog,
      description: `${bucket.what}: ${path.relative(process.cwd(), bucket.localArchiveDir) || "."} (the local lake of ${source}), segment ${segment}`,
      close: () => undefined,
    };
  }
  const store = new S3ArchiveStore(bucket.bucketName, {
    // A replica lives in the backup region, whatever region the target stream is in.
    region: bucket.region ?? opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? entryRegion(entry),
  });
  return {
    store,
    entry,
    catalog,
    description: `${bucket.what}: s3://${bucket.bucketName} (segment ${segment} from ${source})`,
    close: () => store.close(),
  };
}
