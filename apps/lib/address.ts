/**
 * The one check of a segment address given on the command line (`--segment`, `--into`), so every app
 * words the same mistake the same way.
 */
import { NAME_PATTERN, NAME_RULE, parseAddress } from "../../model/naming";
import { UserError } from "../../runtime/errors";

/** Refuses what cannot be a segment address, naming the flag and the fix; an upper-case one is told the names are lower case. */
export function checkSegmentAddress(flag: string, value: string): void {
  const address = parseAddress(value);
  if (address && NAME_PATTERN.test(address.layer) && NAME_PATTERN.test(address.segment)) return;
  const lower = value.toLowerCase();
  const lowerAddress = parseAddress(lower);
  if (lower !== value && lowerAddress && NAME_PATTERN.test(lowerAddress.layer) && NAME_PATTERN.test(lowerAddress.segment)) {
    throw new UserError(`${flag} "${value}": layer and segment names are lower case; use ${lower}`);
  }
  if (address) {
    throw new UserError(`${flag} "${value}" is not a segment address: layer and segment names are ${NAME_RULE}; e.g. ingest/persons`);
  }
  throw new UserError(`${flag} "${value}" is not a segment address; use "layer/segment", e.g. ingest/persons`);
}
