// node_name: globs over "cluster/node" names, as Hubble: "*" stays inside one name part, a
// pattern without "/" is about the node whatever its cluster, and a flow's node without a
// cluster belongs to cluster "default".
import { FilterError } from './error';
import type { FilterBuilder } from './predicate';
import { Glob } from '../glob';

const PATTERN = /^[a-z0-9*.-]+(?:\/[a-z0-9*.-]+)?$/i;

function compile(pattern: string): Glob {
  if (!PATTERN.test(pattern)) throw new FilterError(`node_name: invalid pattern "${pattern}"`);
  return new Glob(pattern.includes('/') ? pattern : `*/${pattern}`);
}

export const nodeNameFilter: FilterBuilder = (ff) => {
  if (!ff.nodeName.length) return [];
  const patterns = ff.nodeName.map(compile);
  return [
    (f) => {
      if (!f.nodeName) return false;
      const name = f.nodeName.includes('/') ? f.nodeName : `default/${f.nodeName}`;
      return patterns.some((p) => p.test(name));
    },
  ];
};
