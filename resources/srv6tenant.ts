// SRv6Tenant: one tenant's VRF and the namespaces whose pods belong to it. Their traffic is
// encapsulated with segment lists ending in a decapsulating SID of this VRF (End.DT4), and
// a decapsulated packet is only looked up in this VRF's table, so tenants stay apart.
import { int, list, rejectDuplicates, rejectUnknown, reqField, str, type Fields } from './fields';
import { API_VERSION, readEnvelope, type Resource } from './meta';
import { fieldPath, Problems, type Validation } from './problems';

/** The VRF id goes into 32-bit map keys; 0 is the datapath's "no tenant". */
export const VRF_MIN = 1;
export const VRF_MAX = 0xffffffff;

export interface SRv6TenantSpec {
  vrf: number;
  /** Namespace names, in the order given, without repeats. */
  namespaces: string[];
}

export type SRv6Tenant = Resource<'SRv6Tenant', SRv6TenantSpec>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Kubernetes namespace names are RFC 1123 labels. */
export function namespaceProblem(ns: string): string | undefined {
  return ns.length <= 63 && DNS_LABEL.test(ns) ? undefined : `"${ns}" is not a namespace name: lowercase letters, digits and '-', starting and ending alphanumeric, at most 63 characters`;
}

export function readSRv6TenantSpec(ps: Problems, o: Fields, path: string): SRv6TenantSpec | undefined {
  const before = ps.count;
  rejectUnknown(ps, o, path, ['vrf', 'namespaces']);
  const rawVrf = reqField(ps, o, 'vrf', path);
  const vrf = rawVrf === undefined ? undefined : int(ps, rawVrf, fieldPath(path, 'vrf'), VRF_MIN, VRF_MAX);
  const at = fieldPath(path, 'namespaces');
  const raw = reqField(ps, o, 'namespaces', path);
  const items = raw === undefined ? [] : (list(ps, raw, at) ?? []);
  if (Array.isArray(raw) && raw.length === 0) ps.add(at, 'must list at least one namespace');
  const namespaces = items.map((v, i) => {
    const s = str(ps, v, fieldPath(at, i));
    const bad = s === undefined ? undefined : namespaceProblem(s);
    if (bad) ps.add(fieldPath(at, i), bad);
    return bad ? undefined : s;
  });
  rejectDuplicates(ps, namespaces, at, (n) => n);
  if (ps.count > before || vrf === undefined) return undefined;
  return { vrf, namespaces: namespaces as string[] };
}

export function validateSRv6Tenant(obj: unknown): Validation<SRv6Tenant> {
  const ps = new Problems();
  const { metadata, spec: raw } = readEnvelope(ps, obj, 'SRv6Tenant');
  const spec = raw && readSRv6TenantSpec(ps, raw, 'spec');
  return ps.result(metadata && spec && { apiVersion: API_VERSION, kind: 'SRv6Tenant', metadata, spec });
}

/** A tenant left out because one before it by name holds its namespace or its VRF. */
export interface TenantConflict {
  tenant: string;
  reason: 'NamespaceInOtherTenant' | 'VrfInUse';
  message: string;
}

/**
 * The tenants in force: by name, the first to claim a namespace or a VRF keeps it; a later
 * one that repeats either is left out whole (and reported), so a namespace never lands in
 * two VRFs and two tenants never share one table.
 */
export function resolveTenants(tenants: readonly SRv6Tenant[]): { active: SRv6Tenant[]; conflicts: TenantConflict[] } {
  const sorted = [...tenants].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  const nsOwner = new Map<string, string>();
  const vrfOwner = new Map<number, string>();
  const active: SRv6Tenant[] = [];
  const conflicts: TenantConflict[] = [];
  for (const t of sorted) {
    const name = t.metadata.name;
    const vrfTaken = vrfOwner.get(t.spec.vrf);
    if (vrfTaken !== undefined) {
      conflicts.push({ tenant: name, reason: 'VrfInUse', message: `VRF ${t.spec.vrf} belongs to SRv6Tenant ${vrfTaken}` });
      continue;
    }
    const clash = t.spec.namespaces.find((ns) => nsOwner.has(ns));
    if (clash !== undefined) {
      conflicts.push({ tenant: name, reason: 'NamespaceInOtherTenant', message: `namespace ${clash} belongs to SRv6Tenant ${nsOwner.get(clash)}` });
      continue;
    }
    vrfOwner.set(t.spec.vrf, name);
    for (const ns of t.spec.namespaces) nsOwner.set(ns, name);
    active.push(t);
  }
  return { active, conflicts };
}
