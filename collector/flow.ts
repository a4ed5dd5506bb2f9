// A metered, enriched flow as Hubble's flow.Flow, with the fields filled the way Hubble
// fills them for a trace or drop event at the same place, plus Cillion's WAN path (SCION
// or SRv6, path_type saying which), observation point and the identity the shim carried.
import { PROTO_CILLION_SHIM, COUNTERS, counterName } from '../bpf/abi';
import {
  DropReason,
  Flow,
  FlowType,
  IdentityCheck,
  IPVersion,
  ScionObservationPoint,
  TraceObservationPoint,
  TrafficDirection,
  Verdict,
  WanPathType,
  type Endpoint,
  type Layer4,
  type Policy,
  type SecurityIdentityExtension,
} from '../proto/gen/flow/flow';
import type { EndpointInfo } from '../identity/endpoint';
import type { Enrichment } from './enrich';
import { nextFlowUuid } from './flow_uuid';
import type { MeteredFlow } from './flowtable';

/** The node a flow was metered on, and how to name its devices and policies. */
export interface NodeContext {
  nodeName: string;
  clusterName: string;
  /** Wall clock minus CLOCK_BOOTTIME, in ns (bpf/clock.ts realtimeOffsetNs). */
  realtimeOffsetNs: bigint;
  /** Name of a node-local device, when known. */
  interfaceName?: (ifindex: number) => string | undefined;
  /** The CillionNetworkPolicy a ring record's policy id stands for, as this node's programmer numbered it. */
  policyName?: (policyId: number) => string | undefined;
}

// Cilium's monitor message types, which Hubble reports as event_type.type.
const CILIUM_NOTIFY_DROP = 1;
const CILIUM_NOTIFY_TRACE = 4;
// Cilium's reserved identity for anything outside the cluster.
const IDENTITY_WORLD = 2;

/** Cillion's drop reasons as the nearest Hubble DropReason; the datapath's own name is in the counters. */
const DROP_REASONS: Record<number, DropReason> = {
  [COUNTERS.MALFORMED_UNDERLAY]: DropReason.INVALID_PACKET_DROPPED,
  [COUNTERS.MALFORMED_SCION]: DropReason.INVALID_PACKET_DROPPED,
  [COUNTERS.UNSUPPORTED_ADDR]: DropReason.UNKNOWN_L3_TARGET_ADDRESS,
  [COUNTERS.UNSUPPORTED_PATH]: DropReason.UNSUPPORTED_L3_PROTOCOL,
  [COUNTERS.MALFORMED_PATH]: DropReason.INVALID_PACKET_DROPPED,
  [COUNTERS.WRONG_INGRESS]: DropReason.INVALID_PACKET_DROPPED,
  [COUNTERS.EXPIRED_HOP]: DropReason.INVALID_PACKET_DROPPED,
  [COUNTERS.BAD_MAC]: DropReason.INVALID_PACKET_DROPPED,
  [COUNTERS.UNKNOWN_EGRESS]: DropReason.FIB_LOOKUP_FAILED,
  [COUNTERS.NOT_FOR_US]: DropReason.UNKNOWN_L3_TARGET_ADDRESS,
  [COUNTERS.NO_KEY]: DropReason.NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION,
  [COUNTERS.MALFORMED_INNER]: DropReason.CT_TRUNCATED_OR_INVALID_HEADER,
  [COUNTERS.UNKNOWN_ENDPOINT]: DropReason.UNKNOWN_L3_TARGET_ADDRESS,
  [COUNTERS.INGRESS_DENIED]: DropReason.POLICY_DENIED,
  [COUNTERS.PATH_MTU]: DropReason.IP_FRAGMENTATION_NOT_SUPPORTED,
  [COUNTERS.NO_PATH]: DropReason.NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT,
  [COUNTERS.ENCAP_FAILED]: DropReason.ERROR_WRITING_TO_PACKET,
  [COUNTERS.SPOOFED_SRC]: DropReason.INVALID_SOURCE_IP,
  [COUNTERS.REWRITE_FAILED]: DropReason.ERROR_WRITING_TO_PACKET,
  [COUNTERS.DECAP_FAILED]: DropReason.ERROR_WRITING_TO_PACKET,
  [COUNTERS.POLICY_DENIED]: DropReason.POLICY_DENIED,
  [COUNTERS.AUTH_MISSING]: DropReason.AUTH_REQUIRED,
  [COUNTERS.AUTH_NO_KEY]: DropReason.AUTH_REQUIRED,
  [COUNTERS.AUTH_STALE]: DropReason.AUTH_REQUIRED,
  [COUNTERS.AUTH_REPLAYED]: DropReason.AUTH_REQUIRED,
  [COUNTERS.AUTH_BAD_MAC]: DropReason.AUTH_REQUIRED,
  [COUNTERS.AUTH_FOREIGN_IDENTITY]: DropReason.POLICY_DENIED,
  [COUNTERS.POLICY_EGRESS_DENIED]: DropReason.POLICY_DENIED,
};

const POLICY_KIND = 'CillionNetworkPolicy';

/**
 * The policy a policy drop names, as Hubble's ingress_denied_by/egress_denied_by carry it. A
 * number the node no longer knows (the policy went away meanwhile) keeps its number as name.
 */
function deniedBy(f: MeteredFlow, reason: number, ctx: NodeContext): Policy[] {
  if (f.dropped === 0 || f.lastDropReason !== reason || f.lastDropPolicyId === 0) return [];
  const name = ctx.policyName?.(f.lastDropPolicyId) ?? `#${f.lastDropPolicyId}`;
  return [{ name, namespace: '', labels: [], revision: 0n, kind: POLICY_KIND }];
}

export function hubbleDropReason(cillionReason: number): DropReason {
  return DROP_REASONS[cillionReason] ?? DropReason.DROP_REASON_UNKNOWN;
}

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const SYN = 0x02;
const ACK = 0x10;

function layer4(f: MeteredFlow): Layer4 | undefined {
  const i = f.inner;
  if (!i) return undefined;
  const t = f.tcpFlags;
  switch (i.proto) {
    case TCP:
      return {
        protocol: {
          $case: 'TCP',
          value: {
            sourcePort: i.srcPort,
            destinationPort: i.dstPort,
            flags: { FIN: (t & 0x01) !== 0, SYN: (t & 0x02) !== 0, RST: (t & 0x04) !== 0, PSH: (t & 0x08) !== 0, ACK: (t & 0x10) !== 0, URG: (t & 0x20) !== 0, ECE: (t & 0x40) !== 0, CWR: (t & 0x80) !== 0, NS: false },
          },
        },
      };
    case UDP:
      return { protocol: { $case: 'UDP', value: { sourcePort: i.srcPort, destinationPort: i.dstPort } } };
    case ICMP:
      // The datapath packs ICMP type and code into the source port slot.
      return { protocol: { $case: 'ICMPv4', value: { type: i.srcPort >> 8, code: i.srcPort & 0xff } } };
    default:
      return undefined;
  }
}

function endpoint(info: EndpointInfo | undefined, identity: number): Endpoint {
  if (info) {
    return { ID: identity, identity, clusterName: info.clusterName, namespace: info.namespace, labels: info.labels, podName: info.podName, workloads: [] };
  }
  if (identity === 0 || identity === IDENTITY_WORLD) {
    return { ID: IDENTITY_WORLD, identity: IDENTITY_WORLD, clusterName: '', namespace: '', labels: ['reserved:world'], podName: '', workloads: [] };
  }
  return { ID: identity, identity, clusterName: '', namespace: '', labels: [], podName: '', workloads: [] };
}

/** The identity the packet's shim carried: egress writes the source's, ingress reads the sender's. */
function identityExtension(f: MeteredFlow, e: Enrichment, ctx: NodeContext): SecurityIdentityExtension | undefined {
  // An SRv6 packet carries no identity option: nothing crossed the WAN to report on.
  if (!f.inner || f.direction === 'ROUTER_FORWARD' || f.pathKind === 'srv6') return undefined;
  const egress = f.direction === 'EGRESS_ENCAP';
  if (!egress && f.identity === 0) {
    return { identity: 0, clusterName: '', optionType: 0, authenticated: false, check: IdentityCheck.IDENTITY_ABSENT };
  }
  const known = e.source;
  // A sender named from the very identity the packet claims cannot confirm that claim.
  const check = !known || known.claimed ? IdentityCheck.IDENTITY_CHECK_UNKNOWN : known.identity === f.identity ? IdentityCheck.IDENTITY_MATCHED : IdentityCheck.IDENTITY_MISMATCHED;
  return { identity: f.identity, clusterName: egress ? ctx.clusterName : (known?.clusterName ?? ''), optionType: PROTO_CILLION_SHIM, authenticated: f.authenticated === true, check };
}

/** Hubble's is_reply: known only when the flow's first packet was a TCP handshake packet. */
function isReply(f: MeteredFlow): boolean | undefined {
  if (f.inner?.proto !== TCP || (f.firstTcpFlags & SYN) === 0) return undefined;
  return (f.firstTcpFlags & ACK) !== 0;
}

const POINTS = {
  EGRESS_ENCAP: { trace: TraceObservationPoint.TO_NETWORK, scion: ScionObservationPoint.SCION_EDGE_ENCAP, direction: TrafficDirection.EGRESS },
  INGRESS_DECAP: { trace: TraceObservationPoint.FROM_NETWORK, scion: ScionObservationPoint.SCION_EDGE_DECAP, direction: TrafficDirection.INGRESS },
  ROUTER_FORWARD: { trace: TraceObservationPoint.FROM_NETWORK, scion: ScionObservationPoint.SCION_ROUTER_FORWARD, direction: TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN },
} as const;

function wallTime(bootNs: number, ctx: NodeContext): { seconds: bigint; nanos: number } {
  const ns = BigInt(Math.round(bootNs)) + ctx.realtimeOffsetNs;
  return { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) };
}

/**
 * The flow.Flow of one meter report. Its time is the report interval's last packet; a
 * flow with any dropped packet is DROPPED with the last drop's reason, so a filter on
 * drops finds it.
 */
export function toFlow(f: MeteredFlow, e: Enrichment, ctx: NodeContext): Flow {
  const dropped = f.dropped > 0;
  const drop = dropped ? hubbleDropReason(f.lastDropReason) : DropReason.DROP_REASON_UNKNOWN;
  const point = POINTS[f.direction];
  const reply = isReply(f);
  const inner = f.inner;
  // Ingress: the sender's identity came in the packet; the datapath knows only local endpoints' own.
  // SRv6 carries none, so there the sender is known by its address only.
  const srv6 = f.pathKind === 'srv6';
  const srcIdentity = f.direction === 'INGRESS_DECAP' && !srv6 ? f.identity : (e.source?.identity ?? f.identity);
  return Flow.fromPartial({
    time: wallTime(f.lastNs, ctx),
    uuid: nextFlowUuid(),
    emitter: { name: 'Cillion', version: '' },
    verdict: dropped ? Verdict.DROPPED : Verdict.FORWARDED,
    dropReason: drop,
    dropReasonDesc: drop,
    IP: inner ? { source: inner.srcAddr, destination: inner.dstAddr, ipVersion: IPVersion.IPv4, sourceXlated: '', encrypted: false } : undefined,
    l4: layer4(f),
    source: inner ? endpoint(e.source, srcIdentity) : undefined,
    destination: inner ? endpoint(e.destination, e.destination?.identity ?? 0) : undefined,
    Type: FlowType.L3_L4,
    nodeName: ctx.nodeName,
    eventType: dropped ? { type: CILIUM_NOTIFY_DROP, subType: drop } : { type: CILIUM_NOTIFY_TRACE, subType: point.trace },
    trafficDirection: point.direction,
    traceObservationPoint: dropped ? TraceObservationPoint.UNKNOWN_POINT : point.trace,
    isReply: reply,
    reply: reply ?? false,
    interface: { index: f.ifindex, name: ctx.interfaceName?.(f.ifindex) ?? '' },
    scionPath: e.path,
    pathType: srv6 ? WanPathType.WAN_PATH_SRV6 : WanPathType.WAN_PATH_SCION,
    srv6Path: e.srv6Path,
    scionObservationPoint: point.scion,
    identityExtension: identityExtension(f, e, ctx),
    ingressDeniedBy: deniedBy(f, COUNTERS.POLICY_DENIED, ctx),
    egressDeniedBy: deniedBy(f, COUNTERS.POLICY_EGRESS_DENIED, ctx),
    meter: {
      packets: BigInt(f.packets),
      bytes: BigInt(f.bytes),
      droppedPackets: BigInt(f.dropped),
      firstSeen: wallTime(f.firstNs, ctx),
      lastSeen: wallTime(f.lastNs, ctx),
      dropReasonName: dropped ? counterName(f.lastDropReason) : '',
      podBytes: BigInt(f.podBytes),
      wireBytes: BigInt(f.wireBytes),
      foldedReports: f.foldedReports,
      lostPackets: BigInt(f.lostPackets),
      lostBytes: BigInt(f.lostBytes),
    },
  });
}
