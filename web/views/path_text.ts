// Short text forms of a flow's parts, shared by the table, the details and the edge list.
import { nsDate, timestampNs } from '../../observer/time';
import { verdictToJSON, type Flow } from '../../proto/gen/flow/flow';
import { workloadKey, workloadOf } from '../state/workload';

/** The flow's time in UTC, "2026-01-01 12:00:00.000"; `short` keeps only the time of day. */
export function flowTime(flow: Flow, short = false): string {
  const ns = timestampNs(flow.time);
  if (ns === undefined) return '';
  const text = nsDate(ns).toISOString().replace('T', ' ').slice(0, 23);
  return short ? text.slice(11) : text;
}

export function pathText(flow: Flow): string {
  const hops = flow.scionPath?.hops ?? [];
  return hops.length ? hops.map((h) => (h.country ? `${h.isdAs} (${h.country})` : h.isdAs)).join(' → ') : '—';
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
