// Filter flags -> allow and deny FlowFilters, the way the hubble CLI builds them: flags are
// taken in command-line order; --not sends the next filter flag to the deny list; a
// from-/to- flag narrows every filter, while an either-direction flag (--pod, --ip, ...)
// puts its source half in one filter and its destination half in another, OR-ed.
import {
  FlowFilter,
  GeofenceVerdict,
  IPVersion,
  TrafficDirection,
  Verdict,
  WanPathType,
  verdictFromJSON,
  type EventTypeFilter,
  type TCPFlags,
} from '../../proto/gen/flow/flow';
import type { Timestamp } from '../../proto/gen/google/protobuf/timestamp';
import { parseTimeArg } from '../time_arg';

export class FlagError extends Error {}

/** A --since/--until value as observe takes it (RFC 3339, or a duration back from `now`). Throws FlagError. */
export function timeFlag(flag: string, value: string, now: Date): Timestamp {
  const t = parseTimeArg(value, now);
  if (!t) throw new FlagError(`--${flag}: "${value}" is neither RFC 3339 nor a duration like 5m or 1h30m`);
  return t;
}

type Update = (f: FlowFilter) => void;

class Tracker {
  left: FlowFilter | null = null;
  right: FlowFilter | null = null;
  ns: string[] = [];
  srcNs: string[] = [];
  dstNs: string[] = [];

  both(u: Update): void {
    this.leftOnly(u);
    this.rightOnly(u);
  }

  leftOnly(u: Update): void {
    this.left ??= FlowFilter.fromPartial({});
    u(this.left);
  }

  rightOnly(u: Update): void {
    this.right ??= FlowFilter.fromPartial({});
    u(this.right);
  }

  filters(): FlowFilter[] {
    if (!this.left && !this.right && !this.ns.length && !this.srcNs.length && !this.dstNs.length) return [];
    const left = this.left ?? FlowFilter.fromPartial({});
    const right = this.right ?? FlowFilter.fromPartial({});
    // Namespaces qualify the pod names given without one, or stand alone as "ns/".
    const withNs = (pods: string[], ns: string[]) => {
      const base = pods.length ? pods : [''];
      return base.flatMap((p) => (p.includes('/') ? [p] : ns.map((n) => `${n}/${p}`)));
    };
    if (this.dstNs.length) for (const f of [left, right]) f.destinationPod = withNs(f.destinationPod, this.dstNs);
    if (this.srcNs.length) for (const f of [left, right]) f.sourcePod = withNs(f.sourcePod, this.srcNs);
    if (this.ns.length) {
      left.sourcePod = withNs(left.sourcePod, this.ns);
      right.destinationPod = withNs(right.destinationPod, this.ns);
    }
    const same = JSON.stringify(FlowFilter.toJSON(left)) === JSON.stringify(FlowFilter.toJSON(right));
    return same ? [left] : [left, right];
  }
}

// Cilium's monitor message types and trace observation points, by their CLI names.
const EVENT_TYPES: Record<string, number> = {
  drop: 1, debug: 2, capture: 3, trace: 4, 'policy-verdict': 5, recorder: 6, 'trace-sock': 7, l7: 129, agent: 130,
};
const TRACE_POINTS = [
  'to-endpoint', 'to-proxy', 'to-host', 'to-stack', 'to-overlay', 'from-endpoint', 'from-proxy', 'from-host',
  'from-stack', 'from-overlay', 'from-network', 'to-network',
];

function eventType(val: string): EventTypeFilter {
  const [typeText, subText] = val.split(':', 2);
  const type = EVENT_TYPES[typeText] ?? (/^\d+$/.test(typeText) ? Number(typeText) : NaN);
  if (Number.isNaN(type)) throw new FlagError(`--type: unknown event type "${typeText}"`);
  if (subText === undefined) return { type, matchSubType: false, subType: 0 };
  const point = type === EVENT_TYPES.trace ? TRACE_POINTS.indexOf(subText) : -1;
  const subType = point >= 0 ? point : /^\d+$/.test(subText) ? Number(subText) : NaN;
  if (Number.isNaN(subType)) throw new FlagError(`--type: unknown sub-type "${subText}"`);
  return { type, matchSubType: true, subType };
}

function tcpFlags(val: string): TCPFlags {
  const flags: TCPFlags = { FIN: false, SYN: false, RST: false, PSH: false, ACK: false, URG: false, ECE: false, CWR: false, NS: false };
  for (const name of val.split(',')) {
    const key = name.trim().toUpperCase() as keyof TCPFlags;
    if (!(key in flags)) throw new FlagError(`--tcp-flags: unknown flag "${name}"`);
    flags[key] = true;
  }
  return flags;
}

function identity(flag: string, val: string): number {
  if (!/^\d+$/.test(val) || Number(val) > 0xffffffff) throw new FlagError(`--${flag}: "${val}" is not a numeric identity`);
  return Number(val);
}

function cluster(flag: string, val: string): string {
  if (val === '') throw new FlagError(`--${flag}: empty cluster name`);
  return val;
}

function verdict(val: string): Verdict {
  const v = verdictFromJSON(val.toUpperCase() as unknown);
  if (v === Verdict.VERDICT_UNKNOWN || v === Verdict.UNRECOGNIZED) throw new FlagError(`--verdict: unknown verdict "${val}"`);
  return v;
}

function direction(val: string): TrafficDirection {
  const d = { ingress: TrafficDirection.INGRESS, egress: TrafficDirection.EGRESS }[val.toLowerCase()];
  if (d === undefined) throw new FlagError(`--traffic-direction: want ingress or egress, got "${val}"`);
  return d;
}

function ipVersion(val: string): IPVersion {
  const v = ({ '4': IPVersion.IPv4, v4: IPVersion.IPv4, ipv4: IPVersion.IPv4, '6': IPVersion.IPv6, v6: IPVersion.IPv6, ipv6: IPVersion.IPv6 } as Record<string, IPVersion>)[val.toLowerCase()];
  if (v === undefined) throw new FlagError(`--ip-version: want 4 or 6, got "${val}"`);
  return v;
}

/** The geofence verdict words observe takes and the web page shows, in the order offered. */
export const GEOFENCE_VERDICT_WORDS = {
  compliant: GeofenceVerdict.GEOFENCE_COMPLIANT,
  violation: GeofenceVerdict.GEOFENCE_VIOLATION,
  unverified: GeofenceVerdict.GEOFENCE_UNVERIFIED,
} as const;
export type GeofenceVerdictWord = keyof typeof GEOFENCE_VERDICT_WORDS;

function geofenceVerdict(val: string): GeofenceVerdict {
  const word = val.toLowerCase();
  const v = Object.hasOwn(GEOFENCE_VERDICT_WORDS, word) ? GEOFENCE_VERDICT_WORDS[word as GeofenceVerdictWord] : undefined;
  if (v === undefined) throw new FlagError(`--geofence-verdict: want compliant, violation or unverified, got "${val}"`);
  return v;
}

function isd(val: string): number {
  if (!/^\d+$/.test(val)) throw new FlagError(`--through-isd: "${val}" is not an ISD number`);
  return Number(val);
}

/** The WAN path kinds observe takes and the web page shows, in the order offered. */
export const PATH_TYPE_WORDS = { scion: WanPathType.WAN_PATH_SCION, srv6: WanPathType.WAN_PATH_SRV6 } as const;
export type PathTypeWord = keyof typeof PATH_TYPE_WORDS;

function pathType(val: string): WanPathType {
  const word = val.toLowerCase();
  if (!Object.hasOwn(PATH_TYPE_WORDS, word)) throw new FlagError(`--path-type: want scion or srv6, got "${val}"`);
  return PATH_TYPE_WORDS[word as PathTypeWord];
}

function sid(val: string): string {
  if (val === '') throw new FlagError('--through-sid: empty SID');
  return val;
}

/** Every filter flag by name, with how it changes the tracker. */
const FLAGS: Record<string, (t: Tracker, v: string) => void> = {
  uuid: (t, v) => t.both((f) => f.uuid.push(v)),
  pod: (t, v) => { t.leftOnly((f) => f.sourcePod.push(v)); t.rightOnly((f) => f.destinationPod.push(v)); },
  'from-pod': (t, v) => t.both((f) => f.sourcePod.push(v)),
  'to-pod': (t, v) => t.both((f) => f.destinationPod.push(v)),
  namespace: (t, v) => t.ns.push(v),
  'from-namespace': (t, v) => t.srcNs.push(v),
  'to-namespace': (t, v) => t.dstNs.push(v),
  ip: (t, v) => { t.leftOnly((f) => f.sourceIp.push(v)); t.rightOnly((f) => f.destinationIp.push(v)); },
  'from-ip': (t, v) => t.both((f) => f.sourceIp.push(v)),
  'to-ip': (t, v) => t.both((f) => f.destinationIp.push(v)),
  label: (t, v) => { t.leftOnly((f) => f.sourceLabel.push(v)); t.rightOnly((f) => f.destinationLabel.push(v)); },
  'from-label': (t, v) => t.both((f) => f.sourceLabel.push(v)),
  'to-label': (t, v) => t.both((f) => f.destinationLabel.push(v)),
  'from-cluster': (t, v) => t.both((f) => f.sourceClusterName.push(cluster('from-cluster', v))),
  'to-cluster': (t, v) => t.both((f) => f.destinationClusterName.push(cluster('to-cluster', v))),
  identity: (t, v) => {
    const id = identity('identity', v);
    t.leftOnly((f) => f.sourceIdentity.push(id));
    t.rightOnly((f) => f.destinationIdentity.push(id));
  },
  'from-identity': (t, v) => { const id = identity('from-identity', v); t.both((f) => f.sourceIdentity.push(id)); },
  'to-identity': (t, v) => { const id = identity('to-identity', v); t.both((f) => f.destinationIdentity.push(id)); },
  port: (t, v) => { t.leftOnly((f) => f.sourcePort.push(v)); t.rightOnly((f) => f.destinationPort.push(v)); },
  'from-port': (t, v) => t.both((f) => f.sourcePort.push(v)),
  'to-port': (t, v) => t.both((f) => f.destinationPort.push(v)),
  protocol: (t, v) => t.both((f) => f.protocol.push(v)),
  verdict: (t, v) => { const x = verdict(v); t.both((f) => f.verdict.push(x)); },
  type: (t, v) => { const x = eventType(v); t.both((f) => f.eventType.push(x)); },
  'node-name': (t, v) => t.both((f) => f.nodeName.push(v)),
  // Hubble's --cluster: the flows seen on the cluster's nodes, named "cluster/node".
  cluster: (t, v) => {
    const name = cluster('cluster', v);
    if (name.includes('/')) throw new FlagError(`--cluster: "${v}" is a cluster name, without "/"`);
    t.both((f) => f.nodeName.push(`${name}/*`));
  },
  'traffic-direction': (t, v) => { const x = direction(v); t.both((f) => f.trafficDirection.push(x)); },
  'tcp-flags': (t, v) => { const x = tcpFlags(v); t.both((f) => f.tcpFlags.push(x)); },
  'ip-version': (t, v) => { const x = ipVersion(v); t.both((f) => f.ipVersion.push(x)); },
  'src-ia': (t, v) => t.both((f) => f.srcIa.push(v)),
  'dst-ia': (t, v) => t.both((f) => f.dstIa.push(v)),
  'through-ia': (t, v) => t.both((f) => f.throughIa.push(v)),
  'through-isd': (t, v) => { const x = isd(v); t.both((f) => f.throughIsd.push(x)); },
  'through-country': (t, v) => t.both((f) => f.throughCountry.push(v)),
  path: (t, v) => t.both((f) => f.pathFingerprint.push(v)),
  'through-sid': (t, v) => { const x = sid(v); t.both((f) => f.throughSid.push(x)); },
  'path-type': (t, v) => { const x = pathType(v); t.both((f) => f.pathType.push(x)); },
  'geofence-verdict': (t, v) => { const x = geofenceVerdict(v); t.both((f) => f.geofenceVerdict.push(x)); },
  geofence: (t, v) => t.both((f) => f.geofenceName.push(v)),
};

export class FilterFlags {
  private readonly allow = new Tracker();
  private readonly deny = new Tracker();
  private negateNext = false;

  not(): void {
    if (this.negateNext) throw new FlagError('--not given twice in a row');
    this.negateNext = true;
  }

  set(name: string, value: string): void {
    const apply = FLAGS[name];
    if (!apply) throw new FlagError(`--${name} is not a filter flag`);
    apply(this.negateNext ? this.deny : this.allow, value);
    this.negateNext = false;
  }

  result(): { whitelist: FlowFilter[]; blacklist: FlowFilter[] } {
    if (this.negateNext) throw new FlagError('--not must be followed by a filter flag');
    return { whitelist: this.allow.filters(), blacklist: this.deny.filters() };
  }
}
