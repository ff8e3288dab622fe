/** Tags every taggable resource of the lake carries, so cost and ownership reports can group by them. */
export type Tags = Record<string, string>;

/** The lake's own tags, then the caller's (which win on conflicts). */
export function lakeTags(where: { lake: string; layer?: string; segment?: string; route?: string }, extra?: Tags): Tags {
  const own: Tags = { "datalake:lake": where.lake };
  if (where.layer !== undefined) own["datalake:layer"] = where.layer;
  if (where.segment !== undefined) own["datalake:segment"] = where.segment;
  if (where.route !== undefined) own["datalake:route"] = where.route;
  return { ...own, ...(extra ?? {}) };
}
