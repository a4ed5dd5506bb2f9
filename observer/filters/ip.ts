// source_ip, source_ip_xlated, destination_ip: exact addresses or CIDR ranges (Hubble).
import { BlockList, isIP } from 'node:net';
import type { Flow } from '../../proto/gen/flow/flow';
import { FilterError } from './error';
import type { FilterBuilder, Predicate } from './predicate';

function family(ip: string): 'ipv4' | 'ipv6' | null {
  const v = isIP(ip);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : null;
}

function byIPs(field: string, values: string[], get: (f: Flow) => string | undefined): Predicate {
  const exact = new Set<string>();
  const ranges = new BlockList();
  for (const v of values) {
    const slash = v.indexOf('/');
    if (slash < 0) {
      if (!family(v)) throw new FilterError(`${field}: invalid IP address "${v}"`);
      exact.add(v);
      continue;
    }
    const addr = v.slice(0, slash);
    const bits = v.slice(slash + 1);
    const fam = family(addr);
    const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!fam || !(prefix <= (fam === 'ipv4' ? 32 : 128))) throw new FilterError(`${field}: invalid CIDR "${v}"`);
    ranges.addSubnet(addr, prefix, fam);
  }
  return (flow) => {
    const ip = get(flow);
    if (!ip) return false;
    if (exact.has(ip)) return true;
    const fam = family(ip);
    return fam !== null && ranges.check(ip, fam);
  };
}

export const ipFilter: FilterBuilder = (ff) => {
  const out: Predicate[] = [];
  if (ff.sourceIp.length) out.push(byIPs('source_ip', ff.sourceIp, (f) => f.IP?.source));
  if (ff.sourceIpXlated.length) out.push(byIPs('source_ip_xlated', ff.sourceIpXlated, (f) => f.IP?.sourceXlated));
  if (ff.destinationIp.length) out.push(byIPs('destination_ip', ff.destinationIp, (f) => f.IP?.destination));
  return out;
};
