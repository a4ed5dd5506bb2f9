// flow.Flow back from a ColumnBatch: field for field what the collector sent (the mapping
// is the one in proto/export/v1/export.proto's FlowColumns), plus what only the relay knows
// (node name, the rebuilt SCION or SRv6 path, the geofence verdict) as overrides. Built as object
// literals of a fixed shape, since this feeds live viewers and GetFlows at ingest rate.
// Endpoints and paths are the batch's table entries, shared by every flow referencing them:
// treat the returned flows as read-only.
import type { Flow, Geofence, Layer4, ScionPath, Srv6Path } from '../proto/gen/flow/flow';
import type { Timestamp } from '../proto/gen/google/protobuf/timestamp';
import type { ColumnBatch } from './batch';
import { L4, PRESENT } from './layout';
import { parsePolicyRefs } from './policy_refs';

export interface FlowOverrides {
  /** Flow.node_name: the batch's node (the columns carry none). */
  nodeName?: string;
  /** Flow.scion_path instead of the path table's entry (the relay's rebuilt path). */
  scionPath?: ScionPath;
  /** Flow.srv6_path instead of the SRv6 path table's entry (the relay's rebuilt path). */
  srv6Path?: Srv6Path;
  /** Flow.geofence: the relay's verdict. */
  geofence?: Geofence;
}

/** Flow `i` of the batch (0 <= i < count). */
export function flowAt(batch: ColumnBatch, i: number, overrides?: FlowOverrides): Flow {
  let r = readers.get(batch);
  if (!r) {
    r = new Reader(batch);
    readers.set(batch, r);
  }
  return r.flow(i, overrides);
}

/** Every flow of the batch, in order, with the same overrides. */
export function flowsOf(batch: ColumnBatch, overrides?: FlowOverrides): Flow[] {
  const out = new Array<Flow>(batch.count);
  for (let i = 0; i < batch.count; i++) out[i] = flowAt(batch, i, overrides);
  return out;
}

const readers = new WeakMap<ColumnBatch, Reader>();

const NS = 1_000_000_000n;
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function timestamp(ns: bigint): Timestamp {
  let s = ns / NS;
  let r = ns - s * NS;
  if (r < 0n) {
    s -= 1n;
    r += NS;
  }
  return { seconds: s, nanos: Number(r) };
}

/** The 16 uuid bytes at `k` (wire order) as RFC 4122 text. */
export function uuidText(u: Uint8Array, k: number): string {
  return (
    HEX[u[k]] + HEX[u[k + 1]] + HEX[u[k + 2]] + HEX[u[k + 3]] + '-' + HEX[u[k + 4]] + HEX[u[k + 5]] + '-' + HEX[u[k + 6]] + HEX[u[k + 7]] + '-' +
    HEX[u[k + 8]] + HEX[u[k + 9]] + '-' + HEX[u[k + 10]] + HEX[u[k + 11]] + HEX[u[k + 12]] + HEX[u[k + 13]] + HEX[u[k + 14]] + HEX[u[k + 15]]
  );
}

/** A batch's columns fetched once, so that each flow costs array reads only. */
class Reader {
  private readonly s: readonly string[];
  private readonly present: Uint16Array;
  private readonly timeNs: BigInt64Array;
  private readonly uuid: Uint8Array;
  private readonly verdict: Uint8Array;
  private readonly dropReason: Uint16Array;
  private readonly dropReasonDesc: Uint16Array;
  private readonly flowType: Uint8Array;
  private readonly trafficDirection: Uint8Array;
  private readonly traceObservationPoint: Uint8Array;
  private readonly scionObservationPoint: Uint8Array;
  private readonly isReply: Uint8Array;
  private readonly eventType: Uint8Array;
  private readonly eventSubType: Uint8Array;
  private readonly emitterName: Uint32Array;
  private readonly emitterVersion: Uint32Array;
  private readonly interfaceIndex: Uint32Array;
  private readonly interfaceName: Uint32Array;
  private readonly ipVersion: Uint8Array;
  private readonly sourceIp: Uint32Array;
  private readonly destinationIp: Uint32Array;
  private readonly l4Protocol: Uint8Array;
  private readonly sourcePort: Uint16Array;
  private readonly destinationPort: Uint16Array;
  private readonly tcpFlags: Uint16Array;
  private readonly icmpType: Uint8Array;
  private readonly icmpCode: Uint8Array;
  private readonly sourceEndpoint: Uint32Array;
  private readonly destinationEndpoint: Uint32Array;
  private readonly path: Uint32Array;
  private readonly identity: Uint32Array;
  private readonly identityCluster: Uint32Array;
  private readonly identityOptionType: Uint8Array;
  private readonly identityAuthenticated: Uint8Array;
  private readonly identityCheck: Uint8Array;
  private readonly packets: BigUint64Array;
  private readonly bytes: BigUint64Array;
  private readonly droppedPackets: BigUint64Array;
  private readonly podBytes: BigUint64Array;
  private readonly wireBytes: BigUint64Array;
  private readonly lostPackets: BigUint64Array;
  private readonly lostBytes: BigUint64Array;
  private readonly firstSeenNs: BigInt64Array;
  private readonly lastSeenNs: BigInt64Array;
  private readonly dropReasonName: Uint32Array;
  private readonly foldedReports: Uint32Array;
  private readonly ingressDeniedBy: Uint32Array;
  private readonly egressDeniedBy: Uint32Array;
  private readonly pathType: Uint8Array;
  private readonly srv6Path: Uint32Array;

  constructor(private readonly b: ColumnBatch) {
    this.s = b.strings;
    this.present = b.u16('present');
    this.timeNs = b.i64('timeNs');
    this.uuid = b.u8('uuid');
    this.verdict = b.u8('verdict');
    this.dropReason = b.u16('dropReason');
    this.dropReasonDesc = b.u16('dropReasonDesc');
    this.flowType = b.u8('flowType');
    this.trafficDirection = b.u8('trafficDirection');
    this.traceObservationPoint = b.u8('traceObservationPoint');
    this.scionObservationPoint = b.u8('scionObservationPoint');
    this.isReply = b.u8('isReply');
    this.eventType = b.u8('eventType');
    this.eventSubType = b.u8('eventSubType');
    this.emitterName = b.u32('emitterName');
    this.emitterVersion = b.u32('emitterVersion');
    this.interfaceIndex = b.u32('interfaceIndex');
    this.interfaceName = b.u32('interfaceName');
    this.ipVersion = b.u8('ipVersion');
    this.sourceIp = b.u32('sourceIp');
    this.destinationIp = b.u32('destinationIp');
    this.l4Protocol = b.u8('l4Protocol');
    this.sourcePort = b.u16('sourcePort');
    this.destinationPort = b.u16('destinationPort');
    this.tcpFlags = b.u16('tcpFlags');
    this.icmpType = b.u8('icmpType');
    this.icmpCode = b.u8('icmpCode');
    this.sourceEndpoint = b.u32('sourceEndpoint');
    this.destinationEndpoint = b.u32('destinationEndpoint');
    this.path = b.u32('path');
    this.identity = b.u32('identity');
    this.identityCluster = b.u32('identityCluster');
    this.identityOptionType = b.u8('identityOptionType');
    this.identityAuthenticated = b.u8('identityAuthenticated');
    this.identityCheck = b.u8('identityCheck');
    this.packets = b.u64('packets');
    this.bytes = b.u64('bytes');
    this.droppedPackets = b.u64('droppedPackets');
    this.podBytes = b.u64('podBytes');
    this.wireBytes = b.u64('wireBytes');
    this.lostPackets = b.u64('lostPackets');
    this.lostBytes = b.u64('lostBytes');
    this.firstSeenNs = b.i64('firstSeenNs');
    this.lastSeenNs = b.i64('lastSeenNs');
    this.dropReasonName = b.u32('dropReasonName');
    this.foldedReports = b.u32('foldedReports');
    this.ingressDeniedBy = b.u32('ingressDeniedBy');
    this.egressDeniedBy = b.u32('egressDeniedBy');
    this.pathType = b.u8('pathType');
    this.srv6Path = b.u32('srv6Path');
  }

  flow(i: number, o: FlowOverrides | undefined): Flow {
    if (!(i >= 0 && i < this.b.count)) throw new RangeError(`flow ${i} of a batch of ${this.b.count}`);
    const s = this.s;
    const p = this.present[i];
    const reply = this.isReply[i];
    return {
      time: timestamp(this.timeNs[i]),
      uuid: uuidText(this.uuid, i * 16),
      emitter: p & PRESENT.EMITTER ? { name: s[this.emitterName[i]], version: s[this.emitterVersion[i]] } : undefined,
      verdict: this.verdict[i],
      dropReason: this.dropReason[i],
      authType: 0,
      ethernet: undefined,
      IP: p & PRESENT.IP ? { source: s[this.sourceIp[i]], sourceXlated: '', destination: s[this.destinationIp[i]], ipVersion: this.ipVersion[i], encrypted: false } : undefined,
      l4: p & PRESENT.L4 ? this.l4(i) : undefined,
      tunnel: undefined,
      source: this.b.endpoints[this.sourceEndpoint[i]],
      destination: this.b.endpoints[this.destinationEndpoint[i]],
      Type: this.flowType[i],
      nodeName: o?.nodeName ?? '',
      nodeLabels: [],
      sourceNames: [],
      destinationNames: [],
      l7: undefined,
      reply: reply === 2,
      eventType: p & PRESENT.EVENT_TYPE ? { type: this.eventType[i], subType: this.eventSubType[i] } : undefined,
      sourceService: undefined,
      destinationService: undefined,
      trafficDirection: this.trafficDirection[i],
      policyMatchType: 0,
      traceObservationPoint: this.traceObservationPoint[i],
      traceReason: 0,
      file: undefined,
      ipTraceId: undefined,
      dropReasonDesc: this.dropReasonDesc[i],
      isReply: reply === 0 ? undefined : reply === 2,
      debugCapturePoint: 0,
      interface: p & PRESENT.INTERFACE ? { index: this.interfaceIndex[i], name: s[this.interfaceName[i]] } : undefined,
      proxyPort: 0,
      traceContext: undefined,
      sockXlatePoint: 0,
      socketCookie: 0n,
      cgroupId: 0n,
      Summary: '',
      extensions: undefined,
      egressAllowedBy: [],
      ingressAllowedBy: [],
      egressDeniedBy: parsePolicyRefs(s[this.egressDeniedBy[i]]),
      ingressDeniedBy: parsePolicyRefs(s[this.ingressDeniedBy[i]]),
      policyLog: [],
      aggregate: undefined,
      scionPath: o?.scionPath ?? this.b.paths[this.path[i]],
      pathType: this.pathType[i],
      srv6Path: o?.srv6Path ?? this.b.srv6Paths[this.srv6Path[i]],
      geofence: o?.geofence,
      identityExtension:
        p & PRESENT.IDENTITY_EXTENSION
          ? {
              identity: this.identity[i],
              clusterName: s[this.identityCluster[i]],
              optionType: this.identityOptionType[i],
              authenticated: this.identityAuthenticated[i] === 1,
              check: this.identityCheck[i],
            }
          : undefined,
      scionObservationPoint: this.scionObservationPoint[i],
      meter:
        p & PRESENT.METER
          ? {
              packets: this.packets[i],
              bytes: this.bytes[i],
              droppedPackets: this.droppedPackets[i],
              firstSeen: p & PRESENT.FIRST_SEEN ? timestamp(this.firstSeenNs[i]) : undefined,
              lastSeen: p & PRESENT.LAST_SEEN ? timestamp(this.lastSeenNs[i]) : undefined,
              dropReasonName: s[this.dropReasonName[i]],
              podBytes: this.podBytes[i],
              wireBytes: this.wireBytes[i],
              foldedReports: this.foldedReports[i],
              lostPackets: this.lostPackets[i],
              lostBytes: this.lostBytes[i],
            }
          : undefined,
    };
  }

  private l4(i: number): Layer4 {
    const sourcePort = this.sourcePort[i];
    const destinationPort = this.destinationPort[i];
    switch (this.l4Protocol[i]) {
      case L4.TCP: {
        const t = this.tcpFlags[i];
        const flags = {
          FIN: (t & 1) !== 0, SYN: (t & 2) !== 0, RST: (t & 4) !== 0, PSH: (t & 8) !== 0, ACK: (t & 16) !== 0,
          URG: (t & 32) !== 0, ECE: (t & 64) !== 0, CWR: (t & 128) !== 0, NS: (t & 256) !== 0,
        };
        return { protocol: { $case: 'TCP', value: { sourcePort, destinationPort, flags } } };
      }
      case L4.UDP:
        return { protocol: { $case: 'UDP', value: { sourcePort, destinationPort } } };
      case L4.SCTP:
        return { protocol: { $case: 'SCTP', value: { sourcePort, destinationPort } } };
      case L4.ICMPv4:
        return { protocol: { $case: 'ICMPv4', value: { type: this.icmpType[i], code: this.icmpCode[i] } } };
      case L4.ICMPv6:
        return { protocol: { $case: 'ICMPv6', value: { type: this.icmpType[i], code: this.icmpCode[i] } } };
      default:
        return { protocol: undefined };
    }
  }
}
