// What each client may do: the roles its certificate grants (identity.ts), plus those an
// allow-list file (`cillion relay --roles FILE`) gives certificate names, for certificates
// another PKI issued without Cillion's SAN URIs. The file is YAML, one name per key:
//
//   node-a: [collector]
//   grafana: [reader]
//   audit-bot: [reader, attester]
//
// A name is the one in the certificate's Cillion SAN URIs, or else its subject CN.
import { readFile } from 'node:fs/promises';
import type { PeerCertificate } from 'node:tls';
import { parse } from 'yaml';
import { certificateClaims, DEFAULT_TRUST_DOMAIN, isRole, PLAINTEXT_IDENTITY, ROLES, validName, validTrustDomain, type ClientIdentity, type Role } from './identity';

export class AccessConfigError extends Error {
  readonly code = 'ACCESS_CONFIG';
}

export type AllowList = ReadonlyMap<string, readonly Role[]>;

export function parseAllowList(text: string, origin: string): AllowList {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new AccessConfigError(`${origin}: not YAML: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return new Map();
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new AccessConfigError(`${origin}: expected a map of certificate names to lists of roles`);
  const out = new Map<string, Role[]>();
  for (const [name, roles] of Object.entries(doc as Record<string, unknown>)) {
    if (!validName(name)) throw new AccessConfigError(`${origin}: "${name}" is not a certificate name (letters, digits, '.', '_', '-'; at most 253)`);
    const list = typeof roles === 'string' ? [roles] : roles;
    if (!Array.isArray(list) || list.some((r) => typeof r !== 'string' || !isRole(r))) {
      throw new AccessConfigError(`${origin}: ${name}: roles must be a list of ${ROLES.join(', ')}`);
    }
    out.set(name, [...new Set(list as Role[])]);
  }
  return out;
}

export async function readAllowList(file: string): Promise<AllowList> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new AccessConfigError(`--roles ${file}: ${(e as Error).message}`);
  }
  return parseAllowList(text, `--roles ${file}`);
}

export interface AccessOptions {
  /** The trust domain of the SAN URIs this relay honours; default "cillion". */
  trustDomain?: string;
  allowList?: AllowList;
}

export class AccessPolicy {
  readonly trustDomain: string;
  private readonly allowList: AllowList;

  constructor(opts: AccessOptions = {}) {
    this.trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    if (!validTrustDomain(this.trustDomain)) throw new AccessConfigError(`trust domain "${this.trustDomain}": lowercase letters, digits, '.', '_' and '-' only`);
    this.allowList = opts.allowList ?? new Map();
  }

  /** The identity of a client: everything on a plaintext listener, the certificate's grant on a TLS one. */
  identify(tls: boolean, cert: Pick<PeerCertificate, 'subject' | 'subjectaltname'> | undefined): ClientIdentity {
    if (!tls) return PLAINTEXT_IDENTITY;
    if (!cert || !cert.subject) return { authenticated: true, name: '', roles: new Set(), notes: ['no client certificate'] };
    const claims = certificateClaims(cert, this.trustDomain);
    if (claims.conflicting) return { authenticated: true, name: '', roles: new Set(), notes: claims.notes };
    const name = claims.name !== '' ? claims.name : validName(claims.commonName) ? claims.commonName : '';
    const roles = new Set<Role>(claims.roles);
    for (const r of (name !== '' && this.allowList.get(name)) || []) roles.add(r);
    const notes = [...claims.notes];
    if (roles.size === 0) {
      notes.push(
        `"${name || claims.commonName}" has no SAN URI ${this.trustDomain === DEFAULT_TRUST_DOMAIN ? '' : `of trust domain ${this.trustDomain} `}` +
          `like spiffe://${this.trustDomain}/cillion/<role>/<name> and no entry in the relay's --roles file`,
      );
    }
    return { authenticated: true, name, roles, notes };
  }
}
