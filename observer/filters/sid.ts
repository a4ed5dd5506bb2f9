// through_sid: some segment of the SRv6 path is this SID ("fc00:0:1::1"), or lies in this
// locator prefix ("fc00:0:1::/48", host bits zero). Segments are compared as addresses, so
// spelling does not matter; a flow without an SRv6 path, or a segment that is no address,
// matches none.
import { Srv6Error } from '../../srv6/errors';
import { inPrefix, parsePrefix, parseSid, type Prefix } from '../../srv6/sid';
import { FilterError } from './error';
import type { FilterBuilder } from './predicate';

function prefixOf(text: string): Prefix {
  try {
    return text.includes('/') ? parsePrefix(text) : { addr: parseSid(text), len: 128 };
  } catch (e) {
    if (e instanceof Srv6Error) throw new FilterError(`through_sid: "${text}" is neither an IPv6 SID nor a locator prefix (${e.message})`);
    throw e;
  }
}

/** Segment texts remembered per filter: flows repeat a few segment lists at ingest rate. */
const MAX_REMEMBERED = 4096;

export const sidFilter: FilterBuilder = (ff) => {
  if (!ff.throughSid.length) return [];
  const prefixes = ff.throughSid.map(prefixOf);
  const verdicts = new Map<string, boolean>();
  const inside = (text: string): boolean => {
    let v = verdicts.get(text);
    if (v === undefined) {
      let sid: Uint8Array | undefined;
      try {
        sid = parseSid(text);
      } catch (e) {
        if (!(e instanceof Srv6Error)) throw e;
      }
      v = sid !== undefined && prefixes.some((p) => inPrefix(sid, p));
      if (verdicts.size >= MAX_REMEMBERED) verdicts.clear();
      verdicts.set(text, v);
    }
    return v;
  };
  return [(f) => (f.srv6Path?.segments ?? []).some(inside)];
};
