// source_port, destination_port: decimal port numbers of TCP, UDP or SCTP flows.
import type { Flow } from '../../proto/gen/flow/flow';
import { FilterError } from './error';
import type { FilterBuilder, Predicate } from './predicate';

function ports(f: Flow): { sourcePort: number; destinationPort: number } | undefined {
  const p = f.l4?.protocol;
  return p && (p.$case === 'TCP' || p.$case === 'UDP' || p.$case === 'SCTP') ? p.value : undefined;
}

function parsePorts(field: string, values: string[]): Set<number> {
  return new Set(
    values.map((v) => {
      if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new FilterError(`${field}: invalid port "${v}"`);
      return Number(v);
    }),
  );
}

export const portFilter: FilterBuilder = (ff) => {
  const out: Predicate[] = [];
  if (ff.sourcePort.length) {
    const want = parsePorts('source_port', ff.sourcePort);
    out.push((f) => {
      const p = ports(f);
      return p !== undefined && want.has(p.sourcePort);
    });
  }
  if (ff.destinationPort.length) {
    const want = parsePorts('destination_port', ff.destinationPort);
    out.push((f) => {
      const p = ports(f);
      return p !== undefined && want.has(p.destinationPort);
    });
  }
  return out;
};
