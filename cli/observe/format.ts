// How `cillion observe` prints a GetFlows stream: compact (one line a flow), dict (key:
// value blocks), table, json (Hubble's {"flow", "node_name", "time"} per line) and jsonpb
// (the protobuf JSON mapping of each GetFlowsResponse).
import Table from 'cli-table3';
import {
  dropReasonToJSON,
  Flow,
  GeofenceVerdict,
  geofenceVerdictToJSON,
  Srv6HmacStatus,
  srv6HmacStatusToJSON,
  Verdict,
  verdictToJSON,
  type Endpoint,
  type Srv6Hop,
} from '../../proto/gen/flow/flow';
import { GetFlowsResponse } from '../../proto/gen/observer/observer';
import { nodeStateToJSON } from '../../proto/gen/relay/relay';
import type { Colors } from '../output';
import { formatTime, timestampJson, type TimeFormat } from './time';

export const OUTPUTS = ['compact', 'dict', 'json', 'jsonpb', 'table'] as const;
export type Output = (typeof OUTPUTS)[number];

export interface PrintOptions {
  output: Output;
  colors: Colors;
  printNodeName: boolean;
  timeFormat: TimeFormat;
}

function ports(f: Flow): { src?: number; dst?: number } {
  const p = f.l4?.protocol;
  return p && (p.$case === 'TCP' || p.$case === 'UDP' || p.$case === 'SCTP') ? { src: p.value.sourcePort, dst: p.value.destinationPort } : {};
}

const NAMESPACE_LABEL = 'k8s:io.kubernetes.pod.namespace=';
const NAMESPACE_LABELS = 'k8s:io.cilium.k8s.namespace.labels.';

/** A remote endpoint named by its cluster's catalogue (a namespace, no pod name): "cluster/namespace app=x". */
function remoteName(ep: Endpoint): string {
  const labels = ep.labels.filter((l) => l.startsWith('k8s:') && !l.startsWith(NAMESPACE_LABEL) && !l.startsWith(NAMESPACE_LABELS)).map((l) => l.slice(4));
  return [`${ep.clusterName}/${ep.namespace}`, ...labels].join(' ');
}

function endpoint(ep: Endpoint | undefined, ip: string | undefined, port: number | undefined): string {
  const where = ep?.podName ? `${ep.namespace}/${ep.podName}` : ip || '?';
  const withPort = port ? (where.includes(':') && !ep?.podName ? `[${where}]:${port}` : `${where}:${port}`) : where;
  if (!ep?.identity) return withPort;
  return !ep.podName && ep.clusterName && ep.namespace ? `${withPort} (ID:${ep.identity} ${remoteName(ep)})` : `${withPort} (ID:${ep.identity})`;
}

function summary(f: Flow): string {
  const p = f.l4?.protocol;
  if (!p) return '';
  if (p.$case === 'TCP') {
    const flags = Object.entries(p.value.flags ?? {}).filter(([, on]) => on).map(([n]) => n);
    return flags.length ? `TCP ${flags.join('-')}` : 'TCP';
  }
  if (p.$case === 'ICMPv4' || p.$case === 'ICMPv6') return `${p.$case} type ${p.value.type} code ${p.value.code}`;
  return p.$case;
}

/** The policy that denied the flow, the way Hubble words a policy verdict: "policy-verdict:INGRESS DENIED by Kind/name". */
function policyVerdictText(f: Flow): string {
  const verdicts = [
    ...f.ingressDeniedBy.map((p) => ['INGRESS', p] as const),
    ...f.egressDeniedBy.map((p) => ['EGRESS', p] as const),
  ];
  return verdicts.map(([dir, p]) => `policy-verdict:${dir} DENIED by ${p.kind ? `${p.kind}/` : ''}${p.namespace ? `${p.namespace}/` : ''}${p.name}`).join(' ');
}

function verdictText(f: Flow, c: Colors): string {
  const name = verdictToJSON(f.verdict);
  if (f.verdict === Verdict.FORWARDED) return c.green(name);
  if (f.verdict === Verdict.DROPPED || f.verdict === Verdict.ERROR) {
    const reason = f.dropReasonDesc ? ` (${dropReasonToJSON(f.dropReasonDesc)})` : '';
    const policy = policyVerdictText(f);
    return c.red(name + reason + (policy ? ` ${policy}` : ''));
  }
  return c.yellow(name);
}

/** An SRv6 segment with what the catalogue says of it: its node and country, or, for the decapsulating SID, its behaviour and VRF. */
function srv6HopText(h: Srv6Hop, tenantId: number): string {
  if (h.behavior.startsWith('End.DT')) return `${h.sid} (${h.behavior} vrf ${tenantId})`;
  const where = [h.node, h.country].filter((x) => x !== '').join(' ');
  return where ? `${h.sid} (${where})` : h.sid;
}

/** SCION: the hops' ISD-AS and country. SRv6: "srv6 " and the segments in travel order (bare SIDs where no relay filled the hops). */
function pathText(f: Flow): string {
  const srv6 = f.srv6Path;
  if (srv6 && (srv6.hops.length > 0 || srv6.segments.length > 0)) {
    const hops = srv6.hops.length > 0 ? srv6.hops.map((h) => srv6HopText(h, srv6.tenantId)) : srv6.segments;
    return `srv6 ${hops.join(' > ')}`;
  }
  const hops = f.scionPath?.hops ?? [];
  return hops.map((h) => (h.country ? `${h.isdAs} ${h.country}` : h.isdAs)).join(' > ');
}

function srv6HmacText(f: Flow): string | undefined {
  const h = f.srv6Path?.hmac;
  if (!h || h.status === Srv6HmacStatus.SRV6_HMAC_UNKNOWN) return undefined;
  const name = srv6HmacStatusToJSON(h.status).replace(/^SRV6_HMAC_/, '');
  return h.status === Srv6HmacStatus.SRV6_HMAC_ABSENT ? name : `${name} (key ${h.keyId})`;
}

function geofenceText(f: Flow, c: Colors): string {
  const g = f.geofence;
  if (!g || g.verdict === GeofenceVerdict.GEOFENCE_VERDICT_UNKNOWN) return '';
  const name = geofenceVerdictToJSON(g.verdict).replace(/^GEOFENCE_/, '');
  const text = g.name ? `${name}(${g.name})` : name;
  if (g.verdict === GeofenceVerdict.GEOFENCE_COMPLIANT) return c.green(text);
  if (g.verdict === GeofenceVerdict.GEOFENCE_VIOLATION) return c.red(text);
  return c.yellow(text);
}

function compactLine(f: Flow, node: string, o: PrintOptions): string {
  const { src, dst } = ports(f);
  const parts = [formatTime(f.time, o.timeFormat)];
  if (o.printNodeName) parts.push(`[${node}]`);
  parts.push(endpoint(f.source, f.IP?.source, src), '->', endpoint(f.destination, f.IP?.destination, dst));
  const sum = summary(f);
  if (sum) parts.push(sum);
  parts.push(verdictText(f, o.colors));
  const path = pathText(f);
  if (path) parts.push(`via ${path}`);
  const fence = geofenceText(f, o.colors);
  return parts.join(' ') + (fence ? `  ${fence}` : '');
}

function dictBlock(f: Flow, node: string, o: PrintOptions): string {
  const { src, dst } = ports(f);
  const rows: [string, string][] = [['TIMESTAMP', formatTime(f.time, o.timeFormat)]];
  if (o.printNodeName) rows.push(['NODE', node]);
  rows.push(
    ['SOURCE', endpoint(f.source, f.IP?.source, src)],
    ['DESTINATION', endpoint(f.destination, f.IP?.destination, dst)],
    ['SUMMARY', summary(f) || '-'],
    ['VERDICT', verdictText(f, o.colors)],
    ['PATH', pathText(f) || '-'],
  );
  if (f.scionPath?.fingerprint) rows.push(['FINGERPRINT', f.scionPath.fingerprint]);
  const srv6 = f.srv6Path;
  if (srv6) {
    if (srv6.fingerprint) rows.push(['FINGERPRINT', srv6.fingerprint]);
    rows.push(['TENANT', srv6.tenant ? `${srv6.tenant} (vrf ${srv6.tenantId})` : `vrf ${srv6.tenantId}`]);
    rows.push(['SEGMENTS LEFT', String(srv6.segmentsLeft)]);
    const hmac = srv6HmacText(f);
    if (hmac) rows.push(['SRH HMAC', hmac]);
  }
  rows.push(['GEOFENCE', geofenceText(f, o.colors) || '-']);
  if (f.geofence?.reason) rows.push(['REASON', f.geofence.reason]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return ['------------', ...rows.map(([k, v]) => `${k.padStart(width)}: ${v}`)].join('\n');
}

/** ts-proto's toJSON keeps only milliseconds of a Timestamp; put the nanoseconds back. */
function flowJson(f: Flow): Record<string, unknown> {
  const obj = Flow.toJSON(f) as Record<string, unknown>;
  if (f.time) obj.time = timestampJson(f.time);
  const path = obj.scionPath as Record<string, unknown> | undefined;
  if (path && f.scionPath?.expiry) path.expiry = timestampJson(f.scionPath.expiry);
  return obj;
}

function responseJson(r: GetFlowsResponse): Record<string, unknown> {
  const obj = GetFlowsResponse.toJSON(r) as Record<string, unknown>;
  if (r.responseTypes?.$case === 'flow') obj.flow = flowJson(r.responseTypes.value);
  if (r.time) obj.time = timestampJson(r.time);
  return obj;
}

export class FlowPrinter {
  private table: Table.Table | null = null;

  constructor(private readonly o: PrintOptions, private readonly write: (line: string) => void) {}

  print(r: GetFlowsResponse): void {
    const rt = r.responseTypes;
    if (this.o.output === 'jsonpb') return this.write(JSON.stringify(responseJson(r)));
    if (rt?.$case !== 'flow') return this.printEvent(r);
    const f = rt.value;
    const node = r.nodeName || f.nodeName;
    switch (this.o.output) {
      case 'compact':
        return this.write(compactLine(f, node, this.o));
      case 'dict':
        return this.write(dictBlock(f, node, this.o));
      case 'json':
        return this.write(JSON.stringify({ flow: flowJson(f), node_name: node, time: r.time ? timestampJson(r.time) : undefined }));
      case 'table':
        return this.row(f, node);
    }
  }

  /** Writes what is held back (the table) once the stream is over. */
  end(): void {
    if (this.table) this.write(this.table.toString());
    this.table = null;
  }

  private row(f: Flow, node: string): void {
    const { src, dst } = ports(f);
    const head = ['TIMESTAMP', ...(this.o.printNodeName ? ['NODE'] : []), 'SOURCE', 'DESTINATION', 'SUMMARY', 'VERDICT', 'PATH', 'GEOFENCE'];
    this.table ??= new Table({ head, style: { head: [], border: [] }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
    this.table.push([
      formatTime(f.time, this.o.timeFormat),
      ...(this.o.printNodeName ? [node] : []),
      endpoint(f.source, f.IP?.source, src),
      endpoint(f.destination, f.IP?.destination, dst),
      summary(f),
      verdictText(f, this.o.colors),
      pathText(f).replaceAll(' > ', '\n'),
      geofenceText(f, this.o.colors),
    ]);
  }

  // Node status and lost events go to the same stream so nothing is silently skipped.
  private printEvent(r: GetFlowsResponse): void {
    const rt = r.responseTypes;
    let text: string;
    if (rt?.$case === 'nodeStatus') {
      text = `node status: ${nodeStateToJSON(rt.value.stateChange)} ${rt.value.nodeNames.join(', ')}${rt.value.message ? ` (${rt.value.message})` : ''}`;
    } else if (rt?.$case === 'lostEvents') {
      text = `EVENTS LOST: ${rt.value.numEventsLost} (source ${rt.value.source}${r.nodeName ? `, node ${r.nodeName}` : ''})`;
    } else return;
    if (this.o.output === 'json') this.write(JSON.stringify(responseJson(r)));
    else this.write(this.o.colors.yellow(text));
  }
}
