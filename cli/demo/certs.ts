// The demo's mutual TLS: a fresh CA each run; for each cluster's relay a server certificate
// and a `peer` client certificate (how it calls the other clusters' relays); one collector
// certificate per agent node; a reader and an attester certificate for the user (each also as
// a PKCS#12 file a browser imports, for the relays' web UI), all in <run dir>/certs; and <run dir>/env.<cluster>, which a shell sources to reach that
// cluster's relay as the reader. Under sudo, the user's certificates and the env files
// belong to the user who ran sudo.
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Role } from '../../relay/auth/identity';
import { TLS_ENV, SERVER_ENV } from '../observe/client_tls';
import { CA_CERT, mintCa, mintCertificate, TLS_CERT, TLS_KEY } from '../certs/mint';

/** The name the relays' certificates are checked against: TLS carries no IP as server name. */
export const RELAY_SERVER_NAME = 'localhost';

export interface CertFiles {
  cert: string;
  key: string;
}

/** A certificate for the user: PEM files for the CLI, and the same as PKCS#12 for a browser. */
export interface UserCertFiles extends CertFiles {
  /** Key, certificate and the demo CA, under P12_PASSWORD. */
  p12: string;
}

/** Browsers' import dialogs ask for one; an empty one some refuse. */
export const P12_PASSWORD = 'cillion';

export class DemoCertError extends Error {
  override readonly name = 'DemoCertError';
}

export interface RelayCerts {
  /** Its server certificate. */
  server: CertFiles;
  /** Its client certificate with the `peer` role, named by the relay's name. */
  peer: CertFiles;
  /** The env file that points the client commands at it as the reader. */
  envFile: string;
}

export interface DemoCerts {
  ca: string;
  /** By cluster. */
  relays: Map<string, RelayCerts>;
  agents: Map<string, CertFiles>;
  reader: UserCertFiles;
  attester: UserCertFiles;
  /** Reader and attester in one, for a browser: the web UI shows everything and downloads attestations. */
  auditor: UserCertFiles;
}

const files = (dir: string): CertFiles => ({ cert: join(dir, TLS_CERT), key: join(dir, TLS_KEY) });

function sudoUser(): { uid: number; gid: number } | null {
  const uid = Number(process.env.SUDO_UID);
  const gid = Number(process.env.SUDO_GID);
  return Number.isInteger(uid) && uid > 0 && Number.isInteger(gid) ? { uid, gid } : null;
}

/**
 * `files` as PKCS#12 next to them (`<dir>/<name>.p12`), with the CA so a browser shows the chain.
 * Node's crypto writes no PKCS#12; openssl is one of the build's Debian packages.
 */
function writeP12(files: CertFiles, ca: string, name: string): UserCertFiles {
  const p12 = join(dirname(files.cert), `${name}.p12`);
  try {
    execFileSync('openssl', ['pkcs12', '-export', '-in', files.cert, '-inkey', files.key, '-certfile', ca, '-name', name, '-out', p12, '-passout', `pass:${P12_PASSWORD}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new DemoCertError(`writing ${p12} with openssl: ${err.stderr?.toString().trim() || err.message}`);
  }
  return { ...files, p12 };
}

export const envFileOf = (runDir: string, cluster: string): string => join(runDir, `env.${cluster}`);

function envText(cluster: string, relayAddress: string, ca: string, reader: CertFiles): string {
  return [
    `# source this file: cillion observe, status, list and attest then reach the ${cluster} relay`,
    '# over mutual TLS with the reader certificate (attest export needs the attester one).',
    `# It is federated with the other clusters' relays: observe shows every cluster (--cluster NAME narrows).`,
    `export ${SERVER_ENV}=${relayAddress}`,
    `export ${TLS_ENV.tls}=1`,
    `export ${TLS_ENV.tlsCaCertFiles}=${ca}`,
    `export ${TLS_ENV.tlsClientCertFile}=${reader.cert}`,
    `export ${TLS_ENV.tlsClientKeyFile}=${reader.key}`,
    `export ${TLS_ENV.tlsServerName}=${RELAY_SERVER_NAME}`,
    '',
  ].join('\n');
}

export interface RelayToCertify {
  cluster: string;
  name: string;
  listen: string;
}

export function mintDemoCerts(runDir: string, relays: readonly RelayToCertify[], nodes: readonly string[]): DemoCerts {
  const dir = join(runDir, 'certs');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const caDir = join(dir, 'ca');
  mintCa({ out: caDir, name: 'cillion-demo-ca', days: 7, force: true });
  const issue = (out: string, name: string, o: { roles?: Role[]; dns?: string[]; ips?: string[] }): CertFiles => {
    mintCertificate({ ca: caDir, out: join(dir, out), name, roles: o.roles ?? [], dns: o.dns, ips: o.ips, days: 7, force: true });
    return files(join(dir, out));
  };
  const ca = join(caDir, CA_CERT);
  const reader = writeP12(issue('reader', 'demo-reader', { roles: ['reader'] }), ca, 'reader');
  const attester = writeP12(issue('attester', 'demo-attester', { roles: ['attester'] }), ca, 'attester');
  const auditor = writeP12(issue('auditor', 'demo-auditor', { roles: ['reader', 'attester'] }), ca, 'auditor');
  const certs: DemoCerts = { ca, relays: new Map(), agents: new Map(nodes.map((n) => [n, issue(join('agents', n), n, { roles: ['collector'] })])), reader, attester, auditor };
  const user = sudoUser();
  for (const r of relays) {
    const envFile = envFileOf(runDir, r.cluster);
    writeFileSync(envFile, envText(r.cluster, r.listen, ca, reader));
    if (user) chownSync(envFile, user.uid, user.gid);
    certs.relays.set(r.cluster, {
      server: issue(join('relays', r.name), r.name, { dns: [RELAY_SERVER_NAME], ips: ['127.0.0.1', '::1'] }),
      peer: issue(join('peers', r.name), r.name, { roles: ['peer'] }),
      envFile,
    });
  }
  if (user) {
    for (const u of ['reader', 'attester', 'auditor'] as const) {
      for (const p of [join(dir, u), certs[u].cert, certs[u].key, certs[u].p12]) chownSync(p, user.uid, user.gid);
    }
  }
  return certs;
}

/**
 * The base64 SHA-256 of a certificate's public key (SubjectPublicKeyInfo, DER): what Chromium's
 * --ignore-certificate-errors-spki-list takes to trust that one key, not the whole demo CA.
 */
export function spkiHash(certFile: string): string {
  const der = new X509Certificate(readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/** The client flags of a demo certificate, for processes the demo starts itself. */
export function clientTlsArgs(certs: DemoCerts, who: CertFiles): string[] {
  return ['--tls', '--tls-ca-cert-files', certs.ca, '--tls-client-cert-file', who.cert, '--tls-client-key-file', who.key, '--tls-server-name', RELAY_SERVER_NAME];
}
