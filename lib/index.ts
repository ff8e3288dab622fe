/**
 * The data lake for applications: open it by its catalog, publish records to a segment, consume a segment
 * with checkpoints, replay a window of a segment's archive.
 *
 *   import { openLake } from "datalake";
 *   const lake = await openLake({ catalog: "catalog.json" });   // or a catalog object; default DATALAKE_CATALOG
 *   await lake.publish({ segment: "ingest/persons", records: [{ data: JSON.stringify({ id: "1" }) }] });
 *   await lake.consume({ segment: "ingest/persons", checkpoint: "persons.json", signal, eachBatch: async (batch) => { ... } });
 *   await lake.close();
 *
 * The guarantees are the commands' (`datalake publish`, `datalake subscribe`, `datalake replay`), since the
 * same code runs underneath: nothing acknowledged is lost, delivery is at least once (de-duplicate by a
 * record id), every Kinesis call has a deadline (`callTimeoutMs`) and every retry a bound, and errors a
 * caller can cause are typed (below) with a message that says what to fix. See docs/library.md, "Use the lake
 * from your application".
 */
export { openLake, Lake } from "./lake";
export type { LakeOptions, LakePublishOptions, PublishInput, PublishSummary, ResolvedSegment, Catalog, CatalogEntry } from "./lake";
export type { LakeConsumeOptions } from "./lake-consume";
export type { Batch, ConsumedRecord, ConsumeSummary, ConsumeStopReason } from "./consume";
export type { LakeReplayOptions, LakeReplaySummary, ReplaySummary } from "./replay";
export {
  AccessDeniedError,
  ArchiveError,
  CheckpointError,
  CheckpointInUseError,
  ConfigurationError,
  DatalakeError,
  DeliveryError,
  SegmentNotFoundError,
  StreamNotFoundError,
  UnavailableError,
} from "./errors";
