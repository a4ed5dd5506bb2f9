// The GetFlowsRequest the page asks for: the hash's filters through the same FilterFlags as
// `cillion observe` (so a key means what the flag means), since/until parsed as observe
// parses them, the newest flows up to what the page holds, and following unless `until` is set.
import { FilterFlags, timeFlag } from '../../observer/filters/flags';
import { GetFlowsRequest } from '../../proto/gen/observer/observer';
import type { Timestamp } from '../../proto/gen/google/protobuf/timestamp';

/**
 * What of each flow the live stream carries: what the table, the maps and the compliance view
 * read, and nothing else (not the raw SCION path or SRH, Ethernet, IP, ...); the detail pane fetches
 * the whole flow by uuid (flow_by_uuid.ts).
 */
export const STREAM_FIELDS = [
  'time', 'uuid', 'verdict', 'node_name', 'source', 'destination', 'l4', 'scion_path.hops', 'geofence',
  'path_type', 'srv6_path.hops', 'srv6_path.tenant', 'srv6_path.tenant_id', 'srv6_path.hmac',
];

/** Throws FlagError on a value `cillion observe` would refuse. */
export function flowsRequest(filters: readonly [string, string][], history: number, now: Date): GetFlowsRequest {
  const flags = new FilterFlags();
  let since: Timestamp | undefined;
  let until: Timestamp | undefined;
  for (const [key, value] of filters) {
    if (key === 'since') since = timeFlag(key, value, now);
    else if (key === 'until') until = timeFlag(key, value, now);
    else flags.set(key, value);
  }
  const { whitelist, blacklist } = flags.result();
  return GetFlowsRequest.fromPartial({ number: BigInt(history), follow: until === undefined, since, until, whitelist, blacklist, fieldMask: STREAM_FIELDS });
}
