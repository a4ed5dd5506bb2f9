// protocol: L4 ("tcp", "udp", "sctp", "icmp" for either family, "icmpv4", "icmpv6") or L7
// ("http", "dns", "kafka") names, case-insensitive (Hubble's list plus SCTP).
import type { Flow } from '../../proto/gen/flow/flow';
import { FilterError } from './error';
import type { FilterBuilder } from './predicate';

const tests: Record<string, (f: Flow) => boolean> = {
  tcp: (f) => f.l4?.protocol?.$case === 'TCP',
  udp: (f) => f.l4?.protocol?.$case === 'UDP',
  sctp: (f) => f.l4?.protocol?.$case === 'SCTP',
  icmp: (f) => f.l4?.protocol?.$case === 'ICMPv4' || f.l4?.protocol?.$case === 'ICMPv6',
  icmpv4: (f) => f.l4?.protocol?.$case === 'ICMPv4',
  icmpv6: (f) => f.l4?.protocol?.$case === 'ICMPv6',
  http: (f) => f.l7?.record?.$case === 'http',
  dns: (f) => f.l7?.record?.$case === 'dns',
  kafka: (f) => f.l7?.record?.$case === 'kafka',
};

export const protocolFilter: FilterBuilder = (ff) => {
  if (!ff.protocol.length) return [];
  const chosen = ff.protocol.map((p) => {
    const t = tests[p.toLowerCase()];
    if (!t) throw new FilterError(`protocol: unknown protocol "${p}"`);
    return t;
  });
  return [(f) => chosen.some((t) => t(f))];
};
