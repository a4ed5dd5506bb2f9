// path_fingerprint: hex prefixes of the SCION path's fingerprint, like a short git hash.
import { FilterError } from './error';
import type { FilterBuilder } from './predicate';

export const pathFingerprintFilter: FilterBuilder = (ff) => {
  if (!ff.pathFingerprint.length) return [];
  const prefixes = ff.pathFingerprint.map((p) => {
    if (!/^[0-9a-fA-F]{1,64}$/.test(p)) throw new FilterError(`path_fingerprint: "${p}" is not a hex prefix`);
    return p.toLowerCase();
  });
  return [
    (f) => {
      const fp = f.scionPath?.fingerprint.toLowerCase();
      return !!fp && prefixes.some((p) => fp.startsWith(p));
    },
  ];
};
