// Path reversal as SCION performs it when answering a packet (pkg/slayers/path/scion
// Decoded.Reverse): info fields and their SegLens swap end for end, every ConsDir flag
// flips, hop fields run backwards, and CurrINF/CurrHF are mirrored so they point at the same
// info and hop fields as before. SegIDs and MACs stay as they are: after a full traversal
// each SegID already holds the value the opposite direction starts from.
import { ScionError } from '../errors';
import type { ScionPath } from './model';
import { pathShapeProblem } from './scion';

/** The reversed copy of `path`; the argument is left untouched. */
export function reversePath(path: ScionPath): ScionPath {
  const numInf = path.infoFields.length;
  const numHops = path.hopFields.length;
  const problem = pathShapeProblem(path);
  if (problem !== null) throw new ScionError('BAD_PATH', problem);
  const { currInf, currHf, segLens: lens } = path.meta;
  const hopFields = path.hopFields.map((h) => ({ ...h, mac: h.mac.slice() })).reverse();
  if (numInf === 0) return { type: 'SCION', meta: { currInf: 0, currHf: 0, segLens: [0, 0, 0] }, infoFields: [], hopFields };
  const segLens: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < numInf; i++) segLens[i] = lens[numInf - 1 - i];
  return {
    type: 'SCION',
    meta: {
      currInf: numInf - currInf - 1,
      currHf: numHops - currHf - 1,
      segLens,
    },
    infoFields: path.infoFields.map((f) => ({ ...f, consDir: !f.consDir })).reverse(),
    hopFields,
  };
}
