// Checks a combined path the way the routers along it would: every hop field's MAC under
// the key of the AS that issued it, with the SegID carried from router to router.
import assert from 'node:assert/strict';
import { formatIA, type IA } from '../../../scion/isdas';
import { deriveHopFieldKey } from '../../../scion/mac/keys';
import { verifyPathMacs } from '../../../scion/mac/segid';
import type { ControlPlanePath } from '../../../controlplane/combinator';
import type { Topology } from '../../../controlplane/topology';

// Key derivation is PBKDF2 with 1000 rounds; derive each AS's key once per topology.
const derived = new WeakMap<Topology, Map<IA, Uint8Array>>();

function keyOf(topology: Topology, ia: IA): Uint8Array {
  if (!derived.has(topology)) derived.set(topology, new Map());
  const cache = derived.get(topology)!;
  if (!cache.has(ia)) cache.set(ia, deriveHopFieldKey(topology.ases.get(ia)!.masterKey));
  return cache.get(ia)!;
}

export function assertPathVerifies(topology: Topology, p: ControlPlanePath): void {
  const keys = p.hopFieldAses.map((ia) => keyOf(topology, ia));
  const verdicts = verifyPathMacs(p.path, keys);
  const label = p.ases.map((a) => formatIA(a)).join(' > ');
  assert.deepEqual(verdicts.map((v) => v.valid), keys.map(() => true), `MACs of ${label}`);
}

/** The ASes a path crosses must each appear once: no loops. */
export function assertLoopFree(p: ControlPlanePath): void {
  assert.equal(new Set(p.ases).size, p.ases.length, `loop in ${p.ases.map((a) => formatIA(a)).join(' > ')}`);
}

export const seq = (ases: IA[]): string => ases.map((a) => formatIA(a)).join(' > ');
