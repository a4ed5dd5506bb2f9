// ip_version: IPv4 or IPv6 flows.
import type { FilterBuilder } from './predicate';

export const ipVersionFilter: FilterBuilder = (ff) => {
  if (!ff.ipVersion.length) return [];
  const want = new Set(ff.ipVersion);
  return [(f) => f.IP !== undefined && want.has(f.IP.ipVersion)];
};
