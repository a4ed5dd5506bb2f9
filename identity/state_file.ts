// The allocator's state file: which label set holds which number, and since when an unused
// one has been waiting out its grace period. The operator writes it (atomically, by rename);
// agents and the catalogue read it. Version 2 records the cluster id the numbers were
// allocated under; a version 1 file (cluster-local numbers 256-65535, before cluster ids)
// is upgraded by scoping each number with the configured cluster id, which keeps every
// workload's low 16 bits.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { clusterIdOf, isClusterId, localIdentityOf, RESERVED_IDENTITY_END, scopedIdentity } from './cluster_scope';

export interface StoredIdentity {
  /** The mesh-wide number: scopedIdentity(clusterId, local). */
  id: number;
  labels: string[];
  /** When the last user went (ms since the epoch); absent while in use. */
  releasedAt?: number;
}

export interface IdentityState {
  clusterId: number;
  identities: StoredIdentity[];
}

export type IdentityErrorCode = 'EXHAUSTED' | 'CORRUPT_STATE' | 'CLUSTER_ID_MISMATCH' | 'LOCKED' | 'LOCK_LOST';

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

const STATE_VERSION = 2;

/**
 * The state in `file` for cluster `clusterId`, or null when there is none. A version 1 file is
 * returned upgraded (the caller saves it); a file of another cluster id is refused, since
 * renumbering every workload under the datapath must be a deliberate act.
 */
export function readIdentityState(file: string, clusterId: number): { state: IdentityState; upgraded: boolean } | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let raw: { version?: unknown; clusterId?: unknown; identities?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch (e) {
    throw new IdentityError('CORRUPT_STATE', `${file}: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || !Array.isArray(raw.identities)) throw new IdentityError('CORRUPT_STATE', `${file}: not an identity state file`);
  const entries = raw.identities as unknown[];
  if (raw.version === 1) {
    const upgraded = entries.map((s) => {
      const e = entry(file, s);
      if (e.id < RESERVED_IDENTITY_END || e.id > 0xffff) throw new IdentityError('CORRUPT_STATE', `${file}: version 1 identity ${e.id} outside 256-65535`);
      return { ...e, id: scopedIdentity(clusterId, e.id) };
    });
    return { state: { clusterId, identities: checked(file, upgraded) }, upgraded: true };
  }
  if (raw.version !== STATE_VERSION) {
    throw new IdentityError('CORRUPT_STATE', `${file}: version ${JSON.stringify(raw.version)} is not one this Cillion reads (1 or ${STATE_VERSION}); run the Cillion that wrote it`);
  }
  if (typeof raw.clusterId !== 'number' || !isClusterId(raw.clusterId)) throw new IdentityError('CORRUPT_STATE', `${file}: bad clusterId ${JSON.stringify(raw.clusterId)}`);
  if (raw.clusterId !== clusterId) {
    throw new IdentityError(
      'CLUSTER_ID_MISMATCH',
      `${file} holds identities of cluster id ${raw.clusterId}, but the ClusterAS says ${clusterId}: set spec.clusterId back to ${raw.clusterId}, ` +
        `or move the file away to renumber every workload of this cluster (peers must then relearn its identities)`,
    );
  }
  const identities = entries.map((s) => entry(file, s));
  for (const e of identities) {
    if (clusterIdOf(e.id) !== clusterId || localIdentityOf(e.id) < RESERVED_IDENTITY_END || e.id > 0xffffff) {
      throw new IdentityError('CORRUPT_STATE', `${file}: identity ${e.id} is not one of cluster ${clusterId}`);
    }
  }
  return { state: { clusterId, identities: checked(file, identities) }, upgraded: false };
}

/** Writes the state whole, then renames it over `file`, so a reader never sees half of it. */
export function writeIdentityState(file: string, state: IdentityState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ version: STATE_VERSION, clusterId: state.clusterId, identities: state.identities }, null, 1));
  renameSync(tmp, file);
}

function entry(file: string, s: unknown): StoredIdentity {
  const o = s as Partial<StoredIdentity> | null;
  if (
    o === null || typeof o !== 'object' || !Number.isInteger(o.id) || !Array.isArray(o.labels) || !o.labels.every((l) => typeof l === 'string') ||
    (o.releasedAt !== undefined && !Number.isFinite(o.releasedAt))
  ) {
    throw new IdentityError('CORRUPT_STATE', `${file}: bad identity ${JSON.stringify(s)}`);
  }
  return { id: o.id as number, labels: o.labels, ...(o.releasedAt !== undefined ? { releasedAt: o.releasedAt } : {}) };
}

function checked(file: string, identities: StoredIdentity[]): StoredIdentity[] {
  const ids = new Set<number>();
  const keys = new Set<string>();
  for (const e of identities) {
    const key = e.labels.join('\n');
    if (ids.has(e.id) || keys.has(key)) throw new IdentityError('CORRUPT_STATE', `${file}: repeated identity ${JSON.stringify(e)}`);
    ids.add(e.id);
    keys.add(key);
  }
  return identities;
}
