// ISD-AS fields of resources: text in the SCION notation, checked with scion/isdas.
import { ScionError } from '../scion/errors';
import { isWildcard, parseIA, type IA } from '../scion/isdas';
import { str } from './fields';
import type { Problems } from './problems';

/** Parses an ISD-AS field; wildcards ("64-0", "0-0") only where `wildcard` allows them. */
export function readIA(ps: Problems, v: unknown, path: string, opts: { wildcard?: boolean } = {}): IA | undefined {
  const text = str(ps, v, path);
  if (text === undefined) return undefined;
  let ia: IA;
  try {
    ia = parseIA(text);
  } catch (e) {
    if (!(e instanceof ScionError)) throw e;
    ps.add(path, e.message.replace(/^BAD_ISD_AS: /, ''));
    return undefined;
  }
  if (!opts.wildcard && isWildcard(ia)) {
    ps.add(path, `"${text}" is a wildcard; a concrete ISD-AS is needed here`);
    return undefined;
  }
  return ia;
}
