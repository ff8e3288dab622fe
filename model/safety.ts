/**
 * Config checks that keep the AWS realization deployable and safe, beyond shapes and ranges: names AWS
 * reserves, enhanced fan-out consumers, cross-account sharing, and the size of each layer's key policy.
 * Pure (no Pulumi, no AWS); `model/config.ts` runs them with the rest of the topology checks and turns
 * each `[path, value, message]` into a problem with its config path.
 */
import { z } from "zod";
import { MAX_CONSUMERS_PER_STREAM } from "./limits";
import {
  consumerNameChecks,
  layerNames,
  NAME_PATTERN,
  NAME_RULE,
  reservedAliasProblem,
  reservedBucketNameProblem,
  segmentNames,
  streamArnOf,
} from "./naming";
import { KEY_POLICY_MAX_BYTES, layerKeyPolicy, sharePrincipalArn } from "./policies";

/** Who else may use a segment: other AWS accounts (12-digit ids) or IAM roles (role ARNs). */
export interface ShareConfig {
  /** Accounts or roles allowed to write to the segment's stream. @default [] */
  producers: string[];
  /** Accounts or roles allowed to read the segment's stream (by polling, or through its registered consumers). @default [] */
  consumers: string[];
}

/** Kinesis lets a stream have at most 20 registered consumers (RegisterStreamConsumer): model/limits.ts. */
export { MAX_CONSUMERS_PER_STREAM };

const principalList = (what: string) =>
  z.array(z.string({ error: `each ${what} must be a 12-digit account id or a role ARN` }), {
    error: `${what} must be a list of 12-digit account ids or role ARNs`,
  });

/** `share:` under a segment. */
export const shareSchema = z.strictObject(
  { producers: principalList("producer").optional(), consumers: principalList("consumer").optional() },
  { error: "share must be a map of producers and consumers (lists of 12-digit account ids or role ARNs)" },
);

/** `consumers:` under a segment. */
export const consumersSchema = z.array(z.string({ error: "each consumer must be a name" }), {
  error: "consumers must be a list of consumer names",
});

/** A 12-digit AWS account id. */
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/** An IAM role ARN of any partition: `arn:aws:iam::111122223333:role/path/name`. */
export const ROLE_ARN_PATTERN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** A problem found here: the path below `datalake:lake`, the value given, and what is allowed. */
export type SafetyProblem = [path: PropertyKey[], value: unknown, message: string];

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** The consumers and sharing of one segment, as far as they could be read from the raw config. */
export function segmentAccess(segRaw: unknown): { consumers: string[]; share: ShareConfig } {
  const seg = isRecord(segRaw) ? segRaw : {};
  const share = isRecord(seg.share) ? seg.share : {};
  return { consumers: strings(seg.consumers), share: { producers: strings(share.producers), consumers: strings(share.consumers) } };
}

function principalProblems(path: PropertyKey[], list: string[]): SafetyProblem[] {
  const problems: SafetyProblem[] = [];
  const seen = new Set<string>();
  list.forEach((p, i) => {
    if (!ACCOUNT_ID_PATTERN.test(p) && !ROLE_ARN_PATTERN.test(p)) {
      const looksLikeAccount = /^[\d-]+$/.test(p);
      problems.push([
        [...path, i],
        p,
        looksLikeAccount
          ? "an account id must be exactly 12 digits (no dashes), as AWS shows it, e.g. 111122223333"
          : 'must be a 12-digit account id or an IAM role ARN such as "arn:aws:iam::111122223333:role/reader"',
      ]);
    } else if (seen.has(p)) {
      problems.push([[...path, i], p, "is listed twice; list each account or role once"]);
    }
    seen.add(p);
  });
  return problems;
}

/** Problems with one segment's `consumers` and `share`. */
export function segmentAccessProblems(lake: string, layer: string, segment: string, segRaw: unknown): SafetyProblem[] {
  const seg = isRecord(segRaw) ? segRaw : {};
  const base: PropertyKey[] = ["layers", layer, "segments", segment];
  const problems: SafetyProblem[] = [];
  if (Array.isArray(seg.consumers)) {
    const seen = new Map<string, number>();
    seg.consumers.forEach((c, i) => {
      if (typeof c !== "string") return; // the schema reports it
      const path = [...base, "consumers", i];
      if (!NAME_PATTERN.test(c)) {
        problems.push([path, c, `consumer name must use ${NAME_RULE}`]);
        return;
      }
      if (seen.has(c)) {
        problems.push([path, c, `consumer "${c}" is already listed at consumers[${seen.get(c)}]; names must be unique per segment`]);
        return;
      }
      seen.set(c, i);
      for (const check of consumerNameChecks(lake, layer, segment, c).filter((x) => x.name.length > x.limit)) {
        problems.push([path, check.name, `${check.what} would be ${check.name.length} characters, over AWS's limit of ${check.limit}; shorten the consumer name`]);
      }
    });
    if (seg.consumers.length > MAX_CONSUMERS_PER_STREAM) {
      problems.push([
        [...base, "consumers"],
        seg.consumers.length,
        `a Kinesis stream can have at most ${MAX_CONSUMERS_PER_STREAM} registered consumers; declare at most ${MAX_CONSUMERS_PER_STREAM}`,
      ]);
    }
  }
  if (isRecord(seg.share)) {
    for (const side of ["producers", "consumers"] as const) {
      problems.push(...principalProblems([...base, "share", side], strings(seg.share[side])));
    }
  }
  return problems;
}

/** Placeholders as long as the longest real values, so a size check passes only if every real deploy would. */
const LONGEST = { accountId: "000000000000", region: "ap-southeast-7", partition: "aws-us-gov", dnsSuffix: "amazonaws.com.cn" };

export interface LayerOutline {
  name: string;
  segments: { name: string; raw: unknown }[];
}

/** Key policy arguments of one layer (everything but account, region and partition). */
export function layerKeyPolicyShape(lake: string, layer: string, layers: string[], segments: { name: string; share: ShareConfig }[]) {
  const except = layers.filter((other) => other !== layer && other.startsWith(`${layer}-`)).map((other) => layerNames(lake, other).logGroupPrefix);
  return {
    logGroups: { prefix: layerNames(lake, layer).logGroupPrefix, except },
    processorLogGroupPrefix: layerNames(lake, layer).processorLogGroupPrefix,
    shares: (p: { partition: string; region: string; accountId: string }) =>
      segments
        .filter((s) => s.share.producers.length + s.share.consumers.length > 0)
        .map((s) => ({
          streamArn: streamArnOf(p.partition, p.region, p.accountId, segmentNames(lake, layer, s.name, "").streamName),
          producers: s.share.producers.map((x) => sharePrincipalArn(x, p.partition)),
          consumers: s.share.consumers.map((x) => sharePrincipalArn(x, p.partition)),
        })),
  };
}

/**
 * Problems that need the whole lake: reserved names, layer name spaces, key policy sizes, and the
 * consumers each stream would carry (`routeSources`: the `from` address of every route; each route's
 * processor registers a consumer of its own on its source stream).
 */
export function lakeSafetyProblems(lake: string, layers: LayerOutline[], routeSources: string[] = []): SafetyProblem[] {
  const problems: SafetyProblem[] = [];
  const layerNamesList = layers.map((l) => l.name);
  // The lake name starts every bucket name ("<lake>-<layer>-<segment>-<account>") and sits in every key alias.
  const bucketPrefix = reservedBucketNameProblem(`${lake}-`);
  if (bucketPrefix) problems.push([["name"], lake, `${bucketPrefix}, and every bucket name starts with "${lake}-"; set datalake:lake.name to another lake name`]);
  const alias = layers.map((l) => reservedAliasProblem(layerNames(lake, l.name).kmsAlias)).find((x) => x !== undefined);
  if (alias) problems.push([["name"], lake, `${alias}; set datalake:lake.name to another lake name`]);
  for (const layer of layers) {
    for (const seg of layer.segments) {
      const bucket = segmentNames(lake, layer.name, seg.name, "000000000000").bucketName;
      // Prefixes that the lake, layer and segment names make together ("amzn" + "s3" + "demo-x"); the
      // reserved suffixes cannot occur (bucket names end in the account id) but are checked all the same.
      const reserved = reservedBucketNameProblem(bucket);
      if (reserved && !bucketPrefix) problems.push([["layers", layer.name, "segments", seg.name], bucket, `${reserved}; rename the layer or segment`]);
      // "ingest/raw-x" is named "<lake>-ingest-raw-x...", inside layer "ingest-raw"'s name space, which the
      // key policies separate layers by (layerKeyPolicy).
      const declared = segmentAccess(seg.raw).consumers.length;
      const routes = routeSources.filter((from) => from === `${layer.name}/${seg.name}`).length;
      if (declared <= MAX_CONSUMERS_PER_STREAM && declared + routes > MAX_CONSUMERS_PER_STREAM) {
        problems.push([
          ["layers", layer.name, "segments", seg.name, "consumers"],
          declared,
          `${declared} declared consumers and ${routes} routes reading this segment (each registers a consumer) would be ${declared + routes} consumers on its stream; Kinesis allows at most ${MAX_CONSUMERS_PER_STREAM}`,
        ]);
      }
      const stem = `${layer.name}-${seg.name}`;
      const owner = layerNamesList.find((other) => other !== layer.name && other.startsWith(`${layer.name}-`) && `${stem}-`.startsWith(`${other}-`));
      const sameNames = owner && layers.find((l) => l.name === owner)?.segments.some((o) => `${owner}-${o.name}` === stem);
      if (owner && !sameNames) {
        // (When a segment of that layer gets exactly the same names, config.ts already reports the clash.)
        problems.push([
          ["layers", layer.name, "segments", seg.name],
          `${layer.name}/${seg.name}`,
          `its resource names ("${lake}-${stem}…") fall in layer "${owner}"'s name space ("${lake}-${owner}-…"), which layer keys are scoped by; rename the segment or the layer`,
        ]);
      }
    }
    const shape = layerKeyPolicyShape(
      lake,
      layer.name,
      layerNamesList,
      layer.segments.map((s) => ({ name: s.name, share: segmentAccess(s.raw).share })),
    );
    const size = Buffer.byteLength(
      JSON.stringify(layerKeyPolicy({ ...LONGEST, logGroups: shape.logGroups, processorLogGroupPrefix: shape.processorLogGroupPrefix, shares: shape.shares(LONGEST) })),
      "utf8",
    );
    if (size > KEY_POLICY_MAX_BYTES) {
      problems.push([
        ["layers", layer.name],
        `${size} bytes`,
        `the layer's KMS key policy would be ${size} bytes, over KMS's limit of ${KEY_POLICY_MAX_BYTES}; share fewer segments of this layer with other accounts, or with fewer principals (an account id instead of several of its roles), or move some shared segments to another layer`,
      ]);
    }
  }
  return problems;
}
