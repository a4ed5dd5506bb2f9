// Cluster-scoped identities, as Cilium ClusterMesh lays them out: the cluster id (1-255,
// unique in a mesh) in bits 16-23 above the cluster's own 16-bit number, so one number
// names one workload across every cluster of the mesh. Reserved identities (0-255: unknown,
// host, world, ...) mean the same everywhere and carry no cluster id.
export const CLUSTER_ID_MIN = 1;
export const CLUSTER_ID_MAX = 255;
export const CLUSTER_ID_SHIFT = 16;
/** Identities below this are reserved and cluster-independent. */
export const RESERVED_IDENTITY_END = 256;
const LOCAL_MASK = 0xffff;

export function isClusterId(n: number): boolean {
  return Number.isInteger(n) && n >= CLUSTER_ID_MIN && n <= CLUSTER_ID_MAX;
}

/** The mesh-wide number of a cluster's local identity (256-65535). */
export function scopedIdentity(clusterId: number, local: number): number {
  if (!isClusterId(clusterId)) throw new RangeError(`cluster id ${clusterId} outside ${CLUSTER_ID_MIN}-${CLUSTER_ID_MAX}`);
  if (!Number.isInteger(local) || local < RESERVED_IDENTITY_END || local > LOCAL_MASK) {
    throw new RangeError(`local identity ${local} outside ${RESERVED_IDENTITY_END}-${LOCAL_MASK}`);
  }
  return ((clusterId << CLUSTER_ID_SHIFT) | local) >>> 0;
}

/** The cluster an identity belongs to; 0 for reserved identities and unscoped numbers. */
export function clusterIdOf(identity: number): number {
  return (identity >>> CLUSTER_ID_SHIFT) & 0xff;
}

/** The cluster's own number of an identity (its low 16 bits). */
export function localIdentityOf(identity: number): number {
  return identity & LOCAL_MASK;
}

export function isReservedIdentity(identity: number): boolean {
  return identity >= 0 && identity < RESERVED_IDENTITY_END;
}
