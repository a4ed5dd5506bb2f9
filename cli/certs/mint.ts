// Cillion's certificates, laid out as cert-manager lays out a Secret: a CA directory holds
// ca.crt and ca.key; an issued directory holds tls.crt, tls.key and ca.crt, ready for
// --relay-ca/--relay-cert/--relay-key, the relay's --tls-* flags or
// `kubectl create secret generic NAME --from-file=DIR`. Roles go in as SAN URIs
// spiffe://<trust-domain>/cillion/<role>/<name> (relay/auth/identity.ts reads them back).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_TRUST_DOMAIN, roleUri, validName, validTrustDomain, type Role } from '../../relay/auth/identity';
import { createCa, issueLeaf } from './openssl';

export class MintError extends Error {
  readonly code = 'MINT';
}

export const CA_CERT = 'ca.crt';
export const CA_KEY = 'ca.key';
export const TLS_CERT = 'tls.crt';
export const TLS_KEY = 'tls.key';

export interface CaOptions {
  out: string;
  /** Subject CN; default "cillion-ca". */
  name?: string;
  /** Default 3650. */
  days?: number;
  /** Replace a CA already in `out` (every certificate it issued stops being accepted). */
  force?: boolean;
}

export interface IssueOptions {
  /** A directory made by mintCa. */
  ca: string;
  out: string;
  /** The client's name: a collector's node name, a user's or service's name; also the subject CN. */
  name: string;
  roles: readonly Role[];
  trustDomain?: string;
  /** DNS and IP SANs: with either, the certificate also serves TLS (the relay's). */
  dns?: readonly string[];
  ips?: readonly string[];
  /** Default 365. */
  days?: number;
  force?: boolean;
}

const DNS = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function days(n: number | undefined, fallback: number): number {
  const d = n ?? fallback;
  if (!Number.isInteger(d) || d < 1 || d > 36500) throw new MintError(`days must be a whole number from 1 to 36500, not ${d}`);
  return d;
}

function refuseOverwrite(file: string, force: boolean | undefined): void {
  if (!force && existsSync(file)) throw new MintError(`${file} exists; give --force to replace it`);
}

export function mintCa(o: CaOptions): { cert: string; key: string } {
  const name = o.name ?? 'cillion-ca';
  if (!validName(name)) throw new MintError(`CA name "${name}": letters, digits, '.', '_' and '-' only`);
  const cert = join(o.out, CA_CERT);
  const key = join(o.out, CA_KEY);
  refuseOverwrite(key, o.force);
  const pair = createCa({ commonName: name, days: days(o.days, 3650) });
  mkdirSync(o.out, { recursive: true, mode: 0o700 });
  writeFileSync(key, pair.key, { mode: 0o600 });
  writeFileSync(cert, pair.cert);
  return { cert, key };
}

export function mintCertificate(o: IssueOptions): { cert: string; key: string; ca: string } {
  if (!validName(o.name)) throw new MintError(`name "${o.name}": letters, digits, '.', '_' and '-' only, at most 253, starting and ending with a letter or digit`);
  const trustDomain = o.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  if (!validTrustDomain(trustDomain)) throw new MintError(`trust domain "${trustDomain}": lowercase letters, digits, '.', '_' and '-' only`);
  const dnsNames = [...(o.dns ?? [])];
  const ips = [...(o.ips ?? [])];
  for (const d of dnsNames) if (!DNS.test(d) || d.length > 253) throw new MintError(`--dns ${d} is not a DNS name`);
  for (const ip of ips) if (isIP(ip) === 0) throw new MintError(`--ip ${ip} is not an IP address`);
  const roles = [...new Set(o.roles)];
  const server = dnsNames.length + ips.length > 0;
  if (roles.length === 0 && !server) throw new MintError('nothing to issue: give --role (a client certificate) and/or --dns/--ip (a server certificate)');
  let issuer: { key: string; cert: string };
  try {
    issuer = { key: readFileSync(join(o.ca, CA_KEY), 'utf8'), cert: readFileSync(join(o.ca, CA_CERT), 'utf8') };
  } catch (e) {
    throw new MintError(`--ca ${o.ca}: ${(e as Error).message} (make one with cillion certs ca --out ${o.ca})`);
  }
  const cert = join(o.out, TLS_CERT);
  const key = join(o.out, TLS_KEY);
  const ca = join(o.out, CA_CERT);
  refuseOverwrite(key, o.force);
  const pair = issueLeaf({
    commonName: o.name,
    days: days(o.days, 365),
    uris: roles.map((r) => roleUri(trustDomain, r, o.name)),
    dnsNames,
    ips,
    clientAuth: roles.length > 0,
    serverAuth: server,
    issuer,
  });
  mkdirSync(o.out, { recursive: true, mode: 0o700 });
  writeFileSync(key, pair.key, { mode: 0o600 });
  writeFileSync(cert, pair.cert);
  writeFileSync(ca, issuer.cert);
  return { cert, key, ca };
}
