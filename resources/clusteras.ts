// ClusterAS: this cluster as a SCION AS. Its ISD-AS, the uplinks (interfaces of the AS and
// the underlay address of the border router that owns each, where encapsulated packets are
// sent first) and where the operator gets paths from: the embedded path service over a
// topology file, or a SCION daemon. Its cluster id (1-255, unique in a mesh) goes into the
// high bits of every identity the cluster allocates (identity/cluster_scope.ts).
import { CLUSTER_ID_MAX, CLUSTER_ID_MIN } from '../identity/cluster_scope';
import type { IA } from '../scion/isdas';
import { parseIpPort, parseHostPort } from './addresses';
import { asRecord, int, list, rejectDuplicates, rejectUnknown, reqField, reqStr, type Fields } from './fields';
import { readIA } from './isdas';
import { API_VERSION, readEnvelope, type Resource } from './meta';
import { fieldPath, Problems, type Validation } from './problems';

export interface Uplink {
  /** SCION interface ID (hop fields carry 16 bits; 0 means none). */
  interface: number;
  /** ip:port of the first-hop border router's underlay socket. */
  underlay: string;
}

/** The cluster's SRv6 side: the SID catalogue its nodes and policies are judged against. */
export interface ClusterSrv6 {
  /** SID catalogue file (srv6/catalogue.ts format), relative to the working directory. */
  catalogue: string;
}

export type ControlPlaneEndpoint = { kind: 'embedded'; topology: string } | { kind: 'daemon'; address: string };

export interface ClusterASSpec {
  isdAS: IA;
  /** 1-255, unique among the clusters of a mesh; required, so two clusters never default to one number. */
  clusterId: number;
  uplinks: Uplink[];
  controlPlane: ControlPlaneEndpoint;
  /** Absent: the cluster sends nothing over SRv6. */
  srv6?: ClusterSrv6;
}

export type ClusterAS = Resource<'ClusterAS', ClusterASSpec>;

function readUplink(ps: Problems, v: unknown, path: string): Uplink | undefined {
  const o = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, ['interface', 'underlay']);
  const before = ps.count;
  const rawIf = reqField(ps, o, 'interface', path);
  const ifid = rawIf === undefined ? undefined : int(ps, rawIf, fieldPath(path, 'interface'), 1, 0xffff);
  const underlay = reqStr(ps, o, 'underlay', path);
  if (underlay !== undefined) {
    const hp = parseIpPort(underlay);
    if (typeof hp === 'string') ps.add(fieldPath(path, 'underlay'), hp);
  }
  return ps.count > before || ifid === undefined || underlay === undefined ? undefined : { interface: ifid, underlay };
}

function readControlPlane(ps: Problems, v: unknown, path: string): ControlPlaneEndpoint | undefined {
  const o = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, ['topology', 'daemon']);
  if ((o.topology === undefined) === (o.daemon === undefined)) {
    ps.add(path, 'give exactly one of topology (embedded path service) or daemon (SCION daemon address)');
    return undefined;
  }
  if (o.topology !== undefined) {
    const topology = reqStr(ps, o, 'topology', path);
    if (topology === '') ps.add(fieldPath(path, 'topology'), 'must not be empty');
    return topology ? { kind: 'embedded', topology } : undefined;
  }
  const address = reqStr(ps, o, 'daemon', path);
  if (address === undefined) return undefined;
  const hp = parseHostPort(address);
  if (typeof hp === 'string') {
    ps.add(fieldPath(path, 'daemon'), hp);
    return undefined;
  }
  return { kind: 'daemon', address };
}

function readSrv6(ps: Problems, v: unknown, path: string): ClusterSrv6 | undefined {
  const o = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, ['catalogue']);
  const catalogue = reqStr(ps, o, 'catalogue', path);
  if (catalogue === '') ps.add(fieldPath(path, 'catalogue'), 'must not be empty');
  return catalogue ? { catalogue } : undefined;
}

export function readClusterASSpec(ps: Problems, o: Fields, path: string): ClusterASSpec | undefined {
  const before = ps.count;
  rejectUnknown(ps, o, path, ['isdAS', 'clusterId', 'uplinks', 'controlPlane', 'srv6']);
  const rawIA = reqField(ps, o, 'isdAS', path);
  const isdAS = rawIA === undefined ? undefined : readIA(ps, rawIA, fieldPath(path, 'isdAS'));
  const rawId = reqField(ps, o, 'clusterId', path);
  const clusterId = rawId === undefined ? undefined : int(ps, rawId, fieldPath(path, 'clusterId'), CLUSTER_ID_MIN, CLUSTER_ID_MAX);
  const upAt = fieldPath(path, 'uplinks');
  const rawUp = reqField(ps, o, 'uplinks', path);
  const items = rawUp === undefined ? [] : (list(ps, rawUp, upAt) ?? []);
  if (Array.isArray(rawUp) && rawUp.length === 0) ps.add(upAt, 'must list at least one uplink');
  const uplinks = items.map((u, i) => readUplink(ps, u, fieldPath(upAt, i)));
  rejectDuplicates(ps, uplinks, upAt, (u) => `interface ${u.interface}`);
  const rawCp = reqField(ps, o, 'controlPlane', path);
  const controlPlane = rawCp === undefined ? undefined : readControlPlane(ps, rawCp, fieldPath(path, 'controlPlane'));
  const srv6 = o.srv6 === undefined ? undefined : readSrv6(ps, o.srv6, fieldPath(path, 'srv6'));
  if (ps.count > before || isdAS === undefined || clusterId === undefined || controlPlane === undefined) return undefined;
  return { isdAS, clusterId, uplinks: uplinks as Uplink[], controlPlane, ...(srv6 ? { srv6 } : {}) };
}

export function validateClusterAS(obj: unknown): Validation<ClusterAS> {
  const ps = new Problems();
  const { metadata, spec: raw } = readEnvelope(ps, obj, 'ClusterAS');
  const spec = raw && readClusterASSpec(ps, raw, 'spec');
  return ps.result(metadata && spec && { apiVersion: API_VERSION, kind: 'ClusterAS', metadata, spec });
}
