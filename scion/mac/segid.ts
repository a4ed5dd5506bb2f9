// SegID chaining (scion-header.rst, "Hop Field MAC Computation" and "Path Calculation").
// In construction order each hop i is MACed under beta_i, and beta_{i+1} = beta_i XOR the
// first two MAC bytes. Routers carry the current beta in the info field's SegID:
//   - in construction direction a router verifies with SegID, then (at egress) XORs its MAC in;
//   - against it, the router that receives the packet from another AS first XORs the hop's
//     MAC in (turning beta_{i+1} into beta_i) and then verifies. A hop entered from inside
//     the AS (the source AS's first hop, or the first hop of a segment after a crossover,
//     which the same router handles) is verified without that update;
//   - the two hop fields on either side of a peering link both chain to beta_{i+1} of their
//     own segment and never update SegID.
// This mirrors router/dataplane.go (updateNonConsDirIngressSegID, processEgress,
// determinePeer). Where the spec text says a path against construction direction starts
// with beta_n, SCION's path combinator writes beta_{n-1}, which is what routers accept;
// initialSegId follows the combinator.
import { ScionError } from '../errors';
import type { ScionPath } from '../path/model';
import { pathShapeProblem, segmentOfHop } from '../path/scion';
import { hopFieldMac, verifyHopFieldMac, MAC_LEN, type MacHop, type MacKey } from './hopfield';

/** beta_{i+1} from beta_i and hop i's MAC (only its first two bytes count). */
export function nextSegId(segId: number, mac: Uint8Array): number {
  if (mac.length < 2) throw new ScionError('BAD_ARGUMENT', 'MAC shorter than 2 bytes');
  return (segId ^ ((mac[0] << 8) | mac[1])) & 0xffff;
}

export interface SegmentMacs {
  /** MAC of hop i, in construction order. */
  macs: Uint8Array[];
  /** beta_0 .. beta_n: hop i is MACed under segIds[i]; a peer entry of AS i under segIds[i + 1]. */
  segIds: number[];
}

/**
 * MACs for a segment being built in construction direction (what beaconing does, one AS
 * after another). `beta0` is the segment's random initial SegID, `keys[i]` hop i's AS key.
 */
export function buildSegmentMacs(
  beta0: number,
  timestamp: number,
  hops: readonly MacHop[],
  keys: readonly MacKey[],
): SegmentMacs {
  if (keys.length !== hops.length) {
    throw new ScionError('BAD_ARGUMENT', `${hops.length} hops but ${keys.length} keys`);
  }
  const macs: Uint8Array[] = [];
  const segIds = [beta0];
  hops.forEach((hop, i) => {
    const mac = hopFieldMac(keys[i], { segId: segIds[i], timestamp }, hop);
    macs.push(mac);
    segIds.push(nextSegId(segIds[i], mac));
  });
  return { macs, segIds };
}

/**
 * The SegID a sender writes into the info field for a segment taken from a beacon with
 * initial SegID `beta0` and hop MACs `consMacs` (construction order, regular hop entries).
 * `shortcut` is the construction index where the path meets the segment (down: the first
 * hop used; up: the last hop used), 0 for a whole segment; `peer` when that hop is a peering
 * hop field, whose MAC chains to the next beta.
 */
export function initialSegId(
  beta0: number,
  consMacs: readonly Uint8Array[],
  opts: { consDir: boolean; shortcut?: number; peer?: boolean },
): number {
  const n = consMacs.length;
  const shortcut = opts.shortcut ?? 0;
  if (!Number.isInteger(shortcut) || shortcut < 0 || shortcut >= n) {
    throw new ScionError('BAD_ARGUMENT', `shortcut ${shortcut} outside a ${n}-hop segment`);
  }
  let index: number;
  if (opts.consDir) {
    index = opts.peer ? shortcut + 1 : shortcut;
  } else {
    index = opts.peer && shortcut === n - 1 ? n : n - 1;
  }
  let beta = beta0;
  for (let i = 0; i < index; i++) beta = nextSegId(beta, consMacs[i]);
  return beta;
}

export interface HopMacVerdict {
  /** MAC check result; null when no key was given or the hop lies behind CurrHF. */
  valid: boolean | null;
  /** The SegID the hop was (or would be) verified against; null behind CurrHF. */
  segId: number | null;
}

/**
 * Where the packet comes from at the router handling CurrHF: 'local' from inside that AS
 * (the sender, or the AS's other border router), 'link' over an inter-AS link.
 */
export type Arrival = 'local' | 'link';

interface SegmentRange {
  start: number;
  end: number;
}

function segmentRanges(path: ScionPath): SegmentRange[] {
  const problem = pathShapeProblem(path);
  if (problem !== null) throw new ScionError('BAD_PATH', problem);
  const ranges: SegmentRange[] = [];
  let start = 0;
  for (let s = 0; s < path.infoFields.length; s++) {
    ranges.push({ start, end: start + path.meta.segLens[s] });
    start += path.meta.segLens[s];
  }
  return ranges;
}

/**
 * Verifies every hop field from CurrHF to the end of `path` the way the sequence of
 * routers along it would, carrying the SegID from router to router. `keys[i]` is the MAC
 * key of the AS owning hop field i, or null to skip its check (chaining still uses the
 * MAC bytes in the packet, as routers do). Hops before CurrHF are not verified: their
 * SegID state has already been consumed.
 */
export function verifyPathMacs(
  path: ScionPath,
  keys: readonly (MacKey | null)[],
  opts: { arrival?: Arrival } = {},
): HopMacVerdict[] {
  const ranges = segmentRanges(path);
  const hops = path.hopFields;
  if (keys.length !== hops.length) {
    throw new ScionError('BAD_ARGUMENT', `${hops.length} hop fields but ${keys.length} keys`);
  }
  hops.forEach((h, i) => {
    if (h.mac.length !== MAC_LEN) throw new ScionError('BAD_PATH', `hop field ${i} MAC is ${h.mac.length} bytes`);
  });
  const verdicts: HopMacVerdict[] = hops.map(() => ({ valid: null, segId: null }));
  if (hops.length === 0) return verdicts;

  const { currHf, segLens } = path.meta;
  if (path.infoFields.some((f) => f.peer) && ranges.length !== 2) {
    throw new ScionError('BAD_PATH', 'a peering path must have exactly two segments');
  }

  const arrival = opts.arrival ?? (currHf === 0 ? 'local' : 'link');
  const segIds = path.infoFields.map((f) => f.segId);
  for (let i = currHf; i < hops.length; i++) {
    const s = segmentOfHop(segLens, i);
    const info = path.infoFields[s];
    const hop = hops[i];
    const peering = info.peer && (i === segLens[0] - 1 || i === segLens[0]);
    const fromLink = i === currHf ? arrival === 'link' : i !== ranges[s].start;
    if (!info.consDir && fromLink && !peering) segIds[s] = nextSegId(segIds[s], hop.mac);
    const key = keys[i];
    verdicts[i] = {
      segId: segIds[s],
      valid: key === null ? null : verifyHopFieldMac(key, { segId: segIds[s], timestamp: info.timestamp }, hop),
    };
    if (info.consDir && !peering) segIds[s] = nextSegId(segIds[s], hop.mac);
  }
  return verdicts;
}
