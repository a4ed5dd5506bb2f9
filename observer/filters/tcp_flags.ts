// tcp_flags: a TCP flow matches a TCPFlags entry when it carries every flag set there
// (so {SYN} matches SYN and SYN-ACK); any entry of the list may match (Hubble).
import type { TCPFlags } from '../../proto/gen/flow/flow';
import type { FilterBuilder } from './predicate';

const NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'NS'] as const;

export const tcpFlagsFilter: FilterBuilder = (ff) => {
  if (!ff.tcpFlags.length) return [];
  const wanted = ff.tcpFlags.map((w) => NAMES.filter((n) => w[n]));
  return [
    (f) => {
      const p = f.l4?.protocol;
      if (p?.$case !== 'TCP' || !p.value.flags) return false;
      const flags: TCPFlags = p.value.flags;
      return wanted.some((names) => names.every((n) => flags[n]));
    },
  ];
};
