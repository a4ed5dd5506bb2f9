// Who a client is, read from its certificate. A Cillion certificate carries one SAN URI per
// role it grants, spiffe://<trust-domain>/cillion/<role>/<name>, all with the same name:
// the node name of a collector, the user or service name of a reader or attester. A
// certificate without such a URI is known by its subject CN, and gets roles only from the
// relay's allow-list (roles.ts). Nothing the client says on the wire changes either.
import type { PeerCertificate } from 'node:tls';

export const ROLES = ['collector', 'reader', 'attester', 'peer'] as const;
/**
 * collector: pushes flows (FlowExport) under its own name; reader: the Observer API;
 * attester: Attest exports; peer: another relay of the set (replica or federated cluster),
 * which may read this relay's own flows, status and attestation evidence, only in the local
 * scope (relay/peers/scope.ts).
 */
export type Role = (typeof ROLES)[number];

export const DEFAULT_TRUST_DOMAIN = 'cillion';

/** Kubernetes node names are DNS subdomains; names of users and services fit the same rule. */
const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;
/** SPIFFE trust domains: lowercase letters, digits, dots, dashes and underscores. */
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

export function validName(name: string): boolean {
  return NAME.test(name);
}

export function validTrustDomain(td: string): boolean {
  return TRUST_DOMAIN.test(td);
}

/** The SAN URI that grants `role` to `name`. */
export function roleUri(trustDomain: string, role: Role, name: string): string {
  return `spiffe://${trustDomain}/cillion/${role}/${name}`;
}

/** A client as the relay knows it. */
export interface ClientIdentity {
  /** False on a plaintext listener: no certificate, everything granted, names self-declared. */
  authenticated: boolean;
  /** The certificate's name; empty without TLS or when the certificate names nothing usable. */
  name: string;
  roles: ReadonlySet<Role>;
  /** Why the certificate grants less than it seems to (a foreign trust domain, conflicting names); for refusals. */
  notes: string[];
}

export const PLAINTEXT_IDENTITY: ClientIdentity = { authenticated: false, name: '', roles: new Set(ROLES), notes: [] };

/** What a certificate says about itself, before the allow-list. */
export interface CertificateClaims {
  /** Name and roles from Cillion SAN URIs of this trust domain; name empty when there are none. */
  name: string;
  roles: Role[];
  commonName: string;
  /** The URIs name more than one client: the certificate is refused outright. */
  conflicting: boolean;
  notes: string[];
}

/**
 * Splits Node's subjectaltname text ("DNS:a, URI:b, IP Address:c"). Node quotes a value that
 * holds a comma or quote as a JSON string, so a crafted SAN cannot pose as two entries.
 */
export function subjectAltNames(text: string | undefined): Array<{ type: string; value: string }> {
  const out: Array<{ type: string; value: string }> = [];
  if (!text) return out;
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    let j = colon + 1;
    let value: string;
    if (text[j] === '"') {
      let k = j + 1;
      while (k < text.length && text[k] !== '"') k += text[k] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(text.slice(j, k + 1)) as string;
      } catch {
        value = text.slice(j + 1, k);
      }
      j = k + 1;
    } else {
      const comma = text.indexOf(', ', j);
      const end = comma < 0 ? text.length : comma;
      value = text.slice(j, end);
      j = end;
    }
    out.push({ type, value });
    i = text.startsWith(', ', j) ? j + 2 : j + 1;
  }
  return out;
}

const URI = /^spiffe:\/\/([^/]+)\/cillion\/([^/]+)\/([^/]+)$/;

export function certificateClaims(cert: Pick<PeerCertificate, 'subject' | 'subjectaltname'>, trustDomain: string): CertificateClaims {
  const cn = cert.subject?.CN;
  const commonName = Array.isArray(cn) ? '' : (cn ?? '');
  const notes: string[] = [];
  const names = new Set<string>();
  const roles = new Set<Role>();
  for (const san of subjectAltNames(cert.subjectaltname)) {
    if (san.type !== 'URI') continue;
    const m = URI.exec(san.value);
    if (!m) continue;
    const [, td, role, name] = m;
    if (td !== trustDomain) {
      notes.push(`${san.value} is for trust domain ${td}, not ${trustDomain}`);
      continue;
    }
    if (!isRole(role)) {
      notes.push(`${san.value} names no role (roles: ${ROLES.join(', ')})`);
      continue;
    }
    if (!validName(name)) {
      notes.push(`${san.value} has no valid name`);
      continue;
    }
    names.add(name);
    roles.add(role);
  }
  if (names.size > 1) {
    // One certificate, one client: a certificate naming two nodes could speak for either.
    notes.push(`the certificate names ${[...names].sort().join(' and ')}; it must name one client`);
    return { name: '', roles: [], commonName, conflicting: true, notes };
  }
  return { name: [...names][0] ?? '', roles: [...roles], commonName, conflicting: false, notes };
}
