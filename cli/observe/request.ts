// The GetFlowsRequest that `cillion observe`'s selection flags ask for, with hubble's
// defaults: without --last/--first/--all/--since/--until/--follow, the last 20 flows.
import type { Timestamp } from '../../proto/gen/google/protobuf/timestamp';
import { GetFlowsRequest } from '../../proto/gen/observer/observer';
import type { FlowFilter } from '../../proto/gen/flow/flow';
import { FlagError, timeFlag } from '../../observer/filters/flags';

export interface ObserveSelection {
  follow?: boolean;
  last?: string;
  first?: string;
  all?: boolean;
  since?: string;
  until?: string;
}

const DEFAULT_LAST = 20n;
const ALL = (1n << 64n) - 1n;

function count(flag: string, v: string): bigint {
  if (!/^\d+$/.test(v)) throw new FlagError(`--${flag}: "${v}" is not a count`);
  return BigInt(v);
}

function time(flag: string, v: string | undefined, now: Date): Timestamp | undefined {
  return v === undefined ? undefined : timeFlag(flag, v, now);
}

export function flowsRequest(sel: ObserveSelection, filters: { whitelist: FlowFilter[]; blacklist: FlowFilter[] }, now: Date): GetFlowsRequest {
  const chosen = [sel.last !== undefined, sel.first !== undefined, sel.all === true].filter(Boolean).length;
  if (chosen > 1) throw new FlagError('--last, --first and --all exclude each other');
  if (sel.first !== undefined && sel.follow) throw new FlagError('--first cannot be combined with --follow');
  let number = 0n;
  if (sel.last !== undefined) number = count('last', sel.last);
  else if (sel.first !== undefined) number = count('first', sel.first);
  else if (sel.all) number = ALL;
  else if (!sel.follow && sel.since === undefined && sel.until === undefined) number = DEFAULT_LAST;
  return GetFlowsRequest.fromPartial({
    number,
    first: sel.first !== undefined,
    follow: sel.follow === true,
    whitelist: filters.whitelist,
    blacklist: filters.blacklist,
    since: time('since', sel.since, now),
    until: time('until', sel.until, now),
  });
}
