// The demo's mutual TLS: a fresh CA each run, the relay's server certificate, one collector
// certificate per agent node, and a reader and an attester certificate for the user, all in
// <run dir>/certs; and <run dir>/env, which a shell sources to reach the relay as the reader.
// Under sudo, the user's certificates and the env file belong to the user who ran sudo.
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TLS_ENV, SERVER_ENV } from '../observe/client_tls';
import { CA_CERT, mintCa, mintCertificate, TLS_CERT, TLS_KEY } from '../certs/mint';

/** The name the relay's certificate is checked against: TLS carries no IP as server name. */
export const RELAY_SERVER_NAME = 'localhost';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface DemoCerts {
  ca: string;
  relay: CertFiles;
  agents: Map<string, CertFiles>;
  reader: CertFiles;
  attester: CertFiles;
  envFile: string;
}

const files = (dir: string): CertFiles => ({ cert: join(dir, TLS_CERT), key: join(dir, TLS_KEY) });

function sudoUser(): { uid: number; gid: number } | null {
  const uid = Number(process.env.SUDO_UID);
  const gid = Number(process.env.SUDO_GID);
  return Number.isInteger(uid) && uid > 0 && Number.isInteger(gid) ? { uid, gid } : null;
}

export function mintDemoCerts(runDir: string, relayAddress: string, nodes: readonly string[]): DemoCerts {
  const dir = join(runDir, 'certs');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const caDir = join(dir, 'ca');
  mintCa({ out: caDir, name: 'cillion-demo-ca', days: 7, force: true });
  const issue = (out: string, name: string, o: { roles?: Array<'collector' | 'reader' | 'attester'>; dns?: string[]; ips?: string[] }): CertFiles => {
    mintCertificate({ ca: caDir, out: join(dir, out), name, roles: o.roles ?? [], dns: o.dns, ips: o.ips, days: 7, force: true });
    return files(join(dir, out));
  };
  const relay = issue('relay', 'relay', { dns: [RELAY_SERVER_NAME], ips: ['127.0.0.1', '::1'] });
  const agents = new Map(nodes.map((n) => [n, issue(join('agents', n), n, { roles: ['collector'] })]));
  const reader = issue('reader', 'demo-reader', { roles: ['reader'] });
  const attester = issue('attester', 'demo-attester', { roles: ['attester'] });
  const ca = join(caDir, CA_CERT);
  const envFile = join(runDir, 'env');
  writeFileSync(
    envFile,
    [
      '# source this file: cillion observe, status, list and attest then reach the demo relay',
      '# over mutual TLS with the reader certificate (attest export needs the attester one).',
      `export ${SERVER_ENV}=${relayAddress}`,
      `export ${TLS_ENV.tls}=1`,
      `export ${TLS_ENV.tlsCaCertFiles}=${ca}`,
      `export ${TLS_ENV.tlsClientCertFile}=${reader.cert}`,
      `export ${TLS_ENV.tlsClientKeyFile}=${reader.key}`,
      `export ${TLS_ENV.tlsServerName}=${RELAY_SERVER_NAME}`,
      '',
    ].join('\n'),
  );
  const user = sudoUser();
  if (user) {
    for (const p of [envFile, join(dir, 'reader'), reader.cert, reader.key, join(dir, 'attester'), attester.cert, attester.key]) chownSync(p, user.uid, user.gid);
  }
  return { ca, relay, agents, reader, attester, envFile };
}

/** The client flags of a demo certificate, for processes the demo starts itself. */
export function clientTlsArgs(certs: DemoCerts, who: CertFiles): string[] {
  return ['--tls', '--tls-ca-cert-files', certs.ca, '--tls-client-cert-file', who.cert, '--tls-client-key-file', who.key, '--tls-server-name', RELAY_SERVER_NAME];
}
