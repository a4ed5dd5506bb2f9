// Certificates for the TLS tests, minted by `cillion certs`' own code in a temporary directory.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Role } from '../../../relay/auth/identity';
import { mintCa, mintCertificate } from '../../../cli/certs/mint';

/** A certificate from the CA in `dir`/ca, in `dir`/<out>: tls.crt, tls.key, ca.crt. */
export function issue(dir: string, out: string, name: string, roles: Role[], extra: { trustDomain?: string; ca?: string } = {}): { cert: string; key: string } {
  return mintCertificate({ ca: join(dir, extra.ca ?? 'ca'), out: join(dir, out), name, roles, trustDomain: extra.trustDomain, days: 1 });
}

/**
 * A CA (ca/, also ca.pem), a server certificate for 127.0.0.1 and localhost (server.pem/.key),
 * a client certificate for node-a with every role but peer (client.pem/.key), and a client
 * certificate with the same roles from another CA (rogue.pem/.key, its CA rogue-ca.pem).
 */
export function makeCerts(dir: string): void {
  mkdirSync(dir, { recursive: true });
  mintCa({ out: join(dir, 'ca'), name: 'cillion-test-ca', days: 1 });
  mintCa({ out: join(dir, 'rogue-ca'), name: 'rogue', days: 1 });
  mintCertificate({ ca: join(dir, 'ca'), out: join(dir, 'server'), name: 'relay', roles: [], dns: ['localhost'], ips: ['127.0.0.1'], days: 1 });
  issue(dir, 'client', 'node-a', ['collector', 'reader', 'attester']);
  issue(dir, 'rogue', 'node-a', ['collector', 'reader', 'attester'], { ca: 'rogue-ca' });
  copyFileSync(join(dir, 'ca', 'ca.crt'), join(dir, 'ca.pem'));
  copyFileSync(join(dir, 'rogue-ca', 'ca.crt'), join(dir, 'rogue-ca.pem'));
  for (const n of ['server', 'client', 'rogue']) {
    copyFileSync(join(dir, n, 'tls.crt'), join(dir, `${n}.pem`));
    copyFileSync(join(dir, n, 'tls.key'), join(dir, `${n}.key`));
  }
}
