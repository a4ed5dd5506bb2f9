// Turns a decoded SCION packet into the plain object `cillion scion decode -o json` prints,
// with the keys documented in docs/scion.md; text output is rendered from the same object.
import { formatIA } from '../../scion/isdas';
import { verifyPathMacs } from '../../scion/mac/segid';
import type { MacKey } from '../../scion/mac/hopfield';
import { l4ChecksumValid, optionData, svcName, type HostAddr, type L4, type ScionPacket } from '../../scion/packet';
import type { HopField, InfoField, Path, ScionPath } from '../../scion/path/model';
import { ScionError } from '../../scion/errors';
import { decodeShim, PROTO_CILLION_SHIM, SHIM_INNER_IPV4 } from '../../scion/shim';

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function formatHost(h: HostAddr): string {
  switch (h.kind) {
    case 'IPv4':
      return Array.from(h.bytes).join('.');
    case 'IPv6': {
      const groups = [];
      for (let i = 0; i < 16; i += 2) groups.push(((h.bytes[i] << 8) | h.bytes[i + 1]).toString(16));
      // The WHATWG URL parser prints IPv6 in RFC 5952 canonical (compressed) form.
      return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
    }
    case 'SVC':
      return svcName(h.svc);
    case 'Raw':
      return `raw(type ${h.addrType}):${hex(h.bytes)}`;
  }
}

const infoJson = (f: InfoField) => ({ consDir: f.consDir, peer: f.peer, segId: f.segId, timestamp: f.timestamp });

function hopJson(h: HopField, macValid?: boolean | null) {
  return {
    ingressAlert: h.ingressAlert,
    egressAlert: h.egressAlert,
    expTime: h.expTime,
    consIngress: h.consIngress,
    consEgress: h.consEgress,
    mac: hex(h.mac),
    ...(macValid === undefined ? {} : { macValid }),
  };
}

function scionPathJson(p: ScionPath, macs?: (boolean | null)[]) {
  return {
    currInf: p.meta.currInf,
    currHf: p.meta.currHf,
    segLens: [...p.meta.segLens],
    infoFields: p.infoFields.map(infoJson),
    hopFields: p.hopFields.map((h, i) => hopJson(h, macs?.[i])),
  };
}

function pathJson(p: Path, macs?: (boolean | null)[]) {
  switch (p.type) {
    case 'Empty':
      return {};
    case 'SCION':
      return scionPathJson(p, macs);
    case 'OneHop':
      return { infoFields: [infoJson(p.info)], hopFields: [hopJson(p.firstHop), hopJson(p.secondHop)] };
    case 'EPIC':
      return {
        pktIdTimestamp: p.pktIdTimestamp,
        pktIdCounter: p.pktIdCounter,
        phvf: hex(p.phvf),
        lhvf: hex(p.lhvf),
        ...scionPathJson(p.scion, macs),
      };
  }
}

const L4_NAMES: Record<number, string> = { 6: 'TCP', 17: 'UDP', 202: 'SCMP' };

function l4Json(l4: L4, checksumValid: boolean | null) {
  switch (l4.kind) {
    case 'UDP':
      return {
        protocol: 'UDP',
        srcPort: l4.srcPort,
        dstPort: l4.dstPort,
        length: l4.length,
        checksum: l4.checksum,
        checksumValid,
      };
    case 'SCMP': {
      const { kind, ...fields } = l4.body;
      return {
        protocol: 'SCMP',
        type: l4.type,
        code: l4.code,
        message: kind,
        ...fields,
        ...('ia' in fields ? { ia: formatIA(fields.ia) } : {}),
        checksum: l4.checksum,
        checksumValid,
        payloadLength: l4.payload.length,
      };
    }
    case 'Raw':
      return (l4.nextHdr === PROTO_CILLION_SHIM ? shimJson(l4.payload) : undefined) ?? { protocol: L4_NAMES[l4.nextHdr] ?? l4.nextHdr, length: l4.payload.length };
  }
}

/** Protocol 253 as Cillion frames it (scion/shim.ts): the identity and the inner IPv4 packet; undefined when it is no shim. */
function shimJson(payload: Uint8Array) {
  try {
    const { shim, inner } = decodeShim(payload);
    const ipv4 = shim.innerProto === SHIM_INNER_IPV4 && inner.length >= 20 && inner[0] >> 4 === 4;
    return {
      protocol: 'CillionShim',
      identity: shim.identity,
      clusterId: (shim.identity >>> 16) & 0xff,
      innerProto: shim.innerProto,
      ...(ipv4 ? { inner: { src: Array.from(inner.subarray(12, 16)).join('.'), dst: Array.from(inner.subarray(16, 20)).join('.'), proto: inner[9] } } : {}),
      length: payload.length,
    };
  } catch (e) {
    if (e instanceof ScionError) return undefined;
    throw e;
  }
}

/** The hop fields' MAC verdicts given per-hop keys; undefined when the path has no SCION hops. */
export function macVerdicts(p: ScionPacket, keys: readonly (MacKey | null)[]): (boolean | null)[] | undefined {
  const scion = p.path.type === 'SCION' ? p.path : p.path.type === 'EPIC' ? p.path.scion : undefined;
  if (scion === undefined) return undefined;
  return verifyPathMacs(scion, keys).map((v) => v.valid);
}

export type PacketJson = ReturnType<typeof packetJson>;

export function packetJson(p: ScionPacket, macs?: (boolean | null)[]) {
  return {
    common: {
      version: p.common.version,
      trafficClass: p.common.trafficClass,
      flowId: p.common.flowId,
      nextHdr: p.common.nextHdr,
      hdrLen: p.common.hdrLen,
      payloadLen: p.common.payloadLen,
      pathType: p.common.pathType,
    },
    dstIA: formatIA(p.dstIA),
    srcIA: formatIA(p.srcIA),
    dstHost: formatHost(p.dst),
    srcHost: formatHost(p.src),
    path: pathJson(p.path, macs),
    extensions: p.extensions.map((e) => ({
      kind: e.kind,
      options: e.options.map((o) => ({ type: o.type, data: hex(optionData(o)) })),
    })),
    l4: l4Json(p.l4, l4ChecksumValid(p)),
  };
}
