// The readable rendering of `cillion scion decode`: one indented header tree per packet,
// like Wireshark's detail pane, kept within 80 columns.
import type { Colors } from '../output';
import type { PacketJson } from './present';

type HopJson = PacketJson['path'] extends infer P ? (P extends { hopFields: (infer H)[] } ? H : never) : never;

const flag = (on: boolean, name: string): string => (on ? name : '');

function macMark(c: Colors, h: HopJson & { macValid?: boolean | null }): string {
  if (h.macValid === true) return c.green(' valid');
  if (h.macValid === false) return c.red(' INVALID');
  return '';
}

export function renderPacket(c: Colors, title: string, p: PacketJson): string {
  const out: string[] = [];
  const cm = p.common;
  out.push(c.bold(`${title}: ${p.srcIA},${p.srcHost} → ${p.dstIA},${p.dstHost}`));
  out.push(
    `  Common  version ${cm.version}  tc 0x${cm.trafficClass.toString(16).padStart(2, '0')}` +
      `  flow 0x${cm.flowId.toString(16).padStart(5, '0')}  next ${cm.nextHdr}`,
  );
  out.push(`          hdrLen ${cm.hdrLen}  payloadLen ${cm.payloadLen}  path ${cm.pathType}`);
  const path = p.path as Partial<{
    currInf: number;
    currHf: number;
    segLens: number[];
    infoFields: { consDir: boolean; peer: boolean; segId: number; timestamp: number }[];
    hopFields: (HopJson & { macValid?: boolean | null })[];
    pktIdTimestamp: number;
    pktIdCounter: number;
  }>;
  if (path.pktIdTimestamp !== undefined) {
    out.push(`  EPIC    packet id ts ${path.pktIdTimestamp} counter ${path.pktIdCounter}`);
  }
  if (path.segLens !== undefined) {
    out.push(`  Path    CurrINF ${path.currInf}  CurrHF ${path.currHf}  SegLens ${path.segLens.join(',')}`);
  }
  const infos = path.infoFields ?? [];
  const hops = path.hopFields ?? [];
  const segLens = path.segLens ?? [hops.length];
  let hop = 0;
  infos.forEach((f, s) => {
    const when = new Date(f.timestamp * 1000).toISOString().replace('.000Z', 'Z');
    const flags = [flag(f.consDir, 'C'), flag(f.peer, 'P')].join('') || '-';
    out.push(`    Info ${s}  flags ${flags}  SegID 0x${f.segId.toString(16).padStart(4, '0')}  ${when}`);
    const end = hop + (segLens[s] ?? 0);
    for (; hop < end && hop < hops.length; hop++) {
      const h = hops[hop];
      const alerts = [flag(h.ingressAlert, 'I'), flag(h.egressAlert, 'E')].join('');
      out.push(
        `      Hop ${String(hop).padEnd(2)} ${String(h.consIngress).padStart(5)} → ${String(h.consEgress).padEnd(5)}` +
          ` exp ${String(h.expTime).padStart(3)}  mac ${h.mac}${alerts ? ` alert ${alerts}` : ''}${macMark(c, h)}`,
      );
    }
  });
  for (const e of p.extensions) {
    const opts = e.options.map((o) => (o.data ? `${o.type}:${o.data}` : `${o.type}`)).join(' ');
    out.push(`  ${e.kind.padEnd(7)} options ${opts || '(none)'}`);
  }
  const l4 = p.l4 as Record<string, unknown>;
  const sum = l4.checksumValid === true ? c.green('valid') : l4.checksumValid === false ? c.red('INVALID') : '';
  if (l4.protocol === 'UDP') {
    out.push(`  UDP     ${l4.srcPort} → ${l4.dstPort}  length ${l4.length}  checksum 0x${hex4(l4.checksum)} ${sum}`);
  } else if (l4.protocol === 'SCMP') {
    const { protocol: _p, type, code, message, checksum, checksumValid: _v, ...rest } = l4;
    const extra = Object.entries(rest).map(([k, v]) => `${k} ${String(v)}`).join('  ');
    out.push(`  SCMP    ${String(message)} (type ${type}, code ${code})  checksum 0x${hex4(checksum)} ${sum}`);
    if (extra) out.push(`          ${extra}`);
  } else if (l4.protocol === 'CillionShim') {
    const inner = l4.inner as { src: string; dst: string; proto: number } | undefined;
    const what = inner ? `inner IPv4 ${inner.src} → ${inner.dst} proto ${inner.proto}` : `inner protocol ${String(l4.innerProto)}`;
    out.push(`  Shim    Cillion (protocol 253, experimental): identity ${String(l4.identity)} (cluster ${String(l4.clusterId)})  ${what}  ${l4.length} bytes`);
  } else {
    out.push(`  L4      ${String(l4.protocol)}  ${l4.length} bytes`);
  }
  return out.join('\n');
}

const hex4 = (v: unknown): string => (typeof v === 'number' ? v.toString(16).padStart(4, '0') : '----');
