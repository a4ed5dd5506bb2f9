// SCMP (scmp.rst): Type, Code, Checksum, a type-specific info block, then the data block
// (the quoted offending packet for errors, echo data for echo messages).
import { checkBytes, checkU64, checkUint, Reader, Writer } from '../bytes';
import { ScionError } from '../errors';
import type { ScmpBody, ScmpMessage } from '../packet';

export const SCMP_HDR_LEN = 4;
export const SCMP_CHECKSUM_OFFSET = 2;

type BodyKind = ScmpBody['kind'];

/** SCMP type number of each body kind this codec interprets. */
export const SCMP_TYPE: Record<Exclude<BodyKind, 'Unknown'>, number> = {
  DestinationUnreachable: 1,
  PacketTooBig: 2,
  ParameterProblem: 4,
  ExternalInterfaceDown: 5,
  InternalConnectivityDown: 6,
  EchoRequest: 128,
  EchoReply: 129,
  TracerouteRequest: 130,
  TracerouteReply: 131,
};

/** Info-block length per body kind. */
const INFO_LEN: Record<BodyKind, number> = {
  DestinationUnreachable: 4,
  PacketTooBig: 4,
  ParameterProblem: 4,
  ExternalInterfaceDown: 16,
  InternalConnectivityDown: 24,
  EchoRequest: 4,
  EchoReply: 4,
  TracerouteRequest: 20,
  TracerouteReply: 20,
  Unknown: 0,
};

const KIND_OF_TYPE = new Map<number, BodyKind>(
  Object.entries(SCMP_TYPE).map(([kind, type]) => [type, kind as BodyKind]),
);

function decodeBody(r: Reader, kind: BodyKind, at: number): ScmpBody {
  switch (kind) {
    case 'DestinationUnreachable':
    case 'Unknown':
      return { kind };
    case 'PacketTooBig':
      return { kind, mtu: r.u16(at + 2) };
    case 'ParameterProblem':
      return { kind, pointer: r.u16(at + 2) };
    case 'ExternalInterfaceDown':
      return { kind, ia: r.u64(at), interfaceId: r.u64(at + 8) };
    case 'InternalConnectivityDown':
      return { kind, ia: r.u64(at), ingressId: r.u64(at + 8), egressId: r.u64(at + 16) };
    case 'EchoRequest':
    case 'EchoReply':
      return { kind, identifier: r.u16(at), sequence: r.u16(at + 2) };
    case 'TracerouteRequest':
    case 'TracerouteReply':
      return { kind, identifier: r.u16(at), sequence: r.u16(at + 2), ia: r.u64(at + 4), interfaceId: r.u64(at + 12) };
  }
}

/** Decodes the message occupying exactly [at, end). */
export function decodeScmp(r: Reader, at: number, end: number): ScmpMessage {
  if (end - at < SCMP_HDR_LEN) throw new ScionError('BAD_L4', `SCMP header needs ${SCMP_HDR_LEN} bytes, have ${end - at}`, at);
  const type = r.u8(at);
  const kind = KIND_OF_TYPE.get(type) ?? 'Unknown';
  const info = at + SCMP_HDR_LEN;
  if (info + INFO_LEN[kind] > end) {
    throw new ScionError('BAD_L4', `SCMP ${kind} needs ${INFO_LEN[kind]} bytes after the header, have ${end - info}`, info);
  }
  const data = info + INFO_LEN[kind];
  return {
    kind: 'SCMP',
    type,
    code: r.u8(at + 1),
    checksum: r.u16(at + SCMP_CHECKSUM_OFFSET),
    body: decodeBody(r, kind, info),
    payload: r.copy(data, end - data),
  };
}

export function checkScmp(m: ScmpMessage): number {
  checkUint(m.type, 0xff, 'scmp.type');
  checkUint(m.code, 0xff, 'scmp.code');
  if (m.checksum !== null) checkUint(m.checksum, 0xffff, 'scmp.checksum');
  const b = m.body;
  const kind = b?.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(INFO_LEN, kind)) throw new ScionError('BAD_ARGUMENT', 'scmp.body has an unknown kind');
  // The type selects the body when decoding, so the two must agree for a round trip.
  if ((KIND_OF_TYPE.get(m.type) ?? 'Unknown') !== kind) {
    throw new ScionError('BAD_ARGUMENT', `SCMP type ${m.type} does not carry a ${kind} body`);
  }
  switch (b.kind) {
    case 'PacketTooBig':
      checkUint(b.mtu, 0xffff, 'scmp.body.mtu');
      break;
    case 'ParameterProblem':
      checkUint(b.pointer, 0xffff, 'scmp.body.pointer');
      break;
    case 'ExternalInterfaceDown':
      checkU64(b.ia, 'scmp.body.ia');
      checkU64(b.interfaceId, 'scmp.body.interfaceId');
      break;
    case 'InternalConnectivityDown':
      checkU64(b.ia, 'scmp.body.ia');
      checkU64(b.ingressId, 'scmp.body.ingressId');
      checkU64(b.egressId, 'scmp.body.egressId');
      break;
    case 'EchoRequest':
    case 'EchoReply':
      checkUint(b.identifier, 0xffff, 'scmp.body.identifier');
      checkUint(b.sequence, 0xffff, 'scmp.body.sequence');
      break;
    case 'TracerouteRequest':
    case 'TracerouteReply':
      checkUint(b.identifier, 0xffff, 'scmp.body.identifier');
      checkUint(b.sequence, 0xffff, 'scmp.body.sequence');
      checkU64(b.ia, 'scmp.body.ia');
      checkU64(b.interfaceId, 'scmp.body.interfaceId');
      break;
  }
  return SCMP_HDR_LEN + INFO_LEN[kind] + checkBytes(m.payload, 'scmp.payload').length;
}

function writeBody(w: Writer, b: ScmpBody): void {
  switch (b.kind) {
    case 'Unknown':
      return;
    case 'DestinationUnreachable':
      w.zeros(4);
      return;
    case 'PacketTooBig':
      w.zeros(2);
      w.u16(b.mtu);
      return;
    case 'ParameterProblem':
      w.zeros(2);
      w.u16(b.pointer);
      return;
    case 'ExternalInterfaceDown':
      w.u64(b.ia);
      w.u64(b.interfaceId);
      return;
    case 'InternalConnectivityDown':
      w.u64(b.ia);
      w.u64(b.ingressId);
      w.u64(b.egressId);
      return;
    case 'EchoRequest':
    case 'EchoReply':
      w.u16(b.identifier);
      w.u16(b.sequence);
      return;
    case 'TracerouteRequest':
    case 'TracerouteReply':
      w.u16(b.identifier);
      w.u16(b.sequence);
      w.u64(b.ia);
      w.u64(b.interfaceId);
      return;
  }
}

export function writeScmp(w: Writer, m: ScmpMessage, checksum: number): void {
  w.u8(m.type);
  w.u8(m.code);
  w.u16(checksum);
  writeBody(w, m.body);
  w.put(m.payload);
}
