// A map dump as text, one line per entry, for golden files a person can read in a diff.
import { createHash } from 'node:crypto';
import { formatIA } from '../../../../scion/isdas';
import { decodeScionPathBytes } from '../../../../scion/path/raw';
import type { EdgeMaps } from '../../../../operator/datapath/reconcile';

export function renderMaps(maps: EdgeMaps): string {
  const out: string[] = [];
  const section = (name: string, lines: string[]): void => {
    // Sorted, so a kernel map's hash order and a memory map's key order render alike.
    out.push(`[${name}]`, ...[...lines].sort(), '');
  };
  section('as_config', maps.as_config.entries().map(([, c]) => `${formatIA(c.localIA)} key=${c.key ? 'yes' : 'no'}`));
  section('interfaces', maps.interfaces.entries().map(([ifid, i]) => `${ifid} -> ifindex ${i.ifindex} ${i.localIp}:${i.localPort} -> ${i.remoteIp}:${i.remotePort}`));
  section('ifindex_to_ifid', maps.ifindex_to_ifid.entries().map(([k, v]) => `${k} -> ${v}`));
  section('endpoints', maps.endpoints.entries().map(([ip, e]) => `${ip} -> identity ${e.identity}`));
  section(
    'paths',
    maps.paths.entries().map(([id, p]) => {
      const path = decodeScionPathBytes(p.header.subarray(36));
      const hops = path.hopFields.map((h) => `${h.consIngress}/${h.consEgress}`).join(' ');
      const dst = formatIA(new DataView(p.header.buffer, p.header.byteOffset).getBigUint64(12));
      const digest = createHash('sha256').update(p.header).digest('hex').slice(0, 12);
      return `${id} -> ${dst} via if ${p.egressIfid} mtu ${p.mtu} hf ${path.meta.currHf}/${path.hopFields.length} segs ${path.meta.segLens.join(',')} hops [${hops}] sha ${digest}`;
    }),
  );
  section('egress_policy', maps.egress_policy.entries().map(([k, ids]) => `identity ${k.identity} ${k.prefix} -> paths ${ids.join(',')}`));
  section('ingress_enforced', maps.ingress_enforced.entries().map(([k]) => `identity ${k}`));
  section('ingress_allow', maps.ingress_allow.entries().map(([k]) => `identity ${k.dstIdentity} from ${k.srcIdentity || 'any'} path ${k.pathKey.toString(16).padStart(16, '0')}`));
  section('xpolicy_selected', maps.xpolicy_selected.entries().map(([id, policy]) => `identity ${id} selected by policy ${policy}`));
  section('xpolicy_allow', maps.xpolicy_allow.entries().map(([k, policy]) => `identity ${k.dstIdentity} from ${k.srcIdentity} proto ${k.proto || 'any'} port ${k.dport || 'any'} -> policy ${policy}`));
  return out.join('\n');
}
