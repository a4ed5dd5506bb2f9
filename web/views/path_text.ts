// Short text forms of a flow's parts, shared by the table, the details and the edge list.
import { nsDate, timestampNs } from '../../observer/time';
import { srv6HmacStatusToJSON, verdictToJSON, WanPathType, type Flow } from '../../proto/gen/flow/flow';
import { workloadKey, workloadOf } from '../state/workload';

/** The flow's time in UTC, "2026-01-01 12:00:00.000"; `short` keeps only the time of day. */
export function flowTime(flow: Flow, short = false): string {
  const ns = timestampNs(flow.time);
  if (ns === undefined) return '';
  const text = nsDate(ns).toISOString().replace('T', ' ').slice(0, 23);
  return short ? text.slice(11) : text;
}

/** The kind of WAN path the flow took: "SCION", "SRv6", or "" for none. */
export function pathKind(flow: Flow): '' | 'SCION' | 'SRv6' {
  if (flow.pathType === WanPathType.WAN_PATH_SRV6) return 'SRv6';
  return flow.pathType === WanPathType.WAN_PATH_SCION || (flow.scionPath?.hops.length ?? 0) > 0 ? 'SCION' : '';
}

export function pathText(flow: Flow): string {
  if (flow.pathType === WanPathType.WAN_PATH_SRV6) {
    const segs = flow.srv6Path?.hops ?? [];
    // A segment by its node when the catalogue knows it, else by its SID.
    return segs.length ? segs.map((h) => `${h.node || h.sid}${h.country ? ` (${h.country})` : ''}`).join(' → ') : '—';
  }
  const hops = flow.scionPath?.hops ?? [];
  return hops.length ? hops.map((h) => (h.country ? `${h.isdAs} (${h.country})` : h.isdAs)).join(' → ') : '—';
}

/** An SRv6 path's HMAC outcome as the relay checked it: "VERIFIED", "ABSENT", ... */
export function hmacText(flow: Flow): string {
  return srv6HmacStatusToJSON(flow.srv6Path?.hmac?.status ?? 0).replace(/^SRV6_HMAC_/, '');
}

export function endpointText(flow: Flow, side: 'source' | 'destination', localCluster: string): string {
  return workloadKey(workloadOf(flow[side], flow, localCluster));
}

export function verdictText(flow: Flow): string {
  return verdictToJSON(flow.verdict);
}

export function portsText(flow: Flow): string {
  const p = flow.l4?.protocol;
  if (!p) return '';
  if (p.$case === 'TCP' || p.$case === 'UDP' || p.$case === 'SCTP') return `${p.$case} ${p.value.sourcePort}→${p.value.destinationPort}`;
  return p.$case;
}
