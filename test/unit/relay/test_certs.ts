// Certificates for the TLS tests, made with openssl in a temporary directory.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate for node-a, all signed by the CA. */
export function makeCerts(dir: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=cillion-test-ca');
  for (const [name, cn, ext] of [
    ['server', 'relay', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['client', 'node-a', 'extendedKeyUsage=clientAuth'],
  ]) {
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  }
  // A second CA whose client certificate the relay must refuse.
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'rogue.key', '-out', 'rogue.pem', '-days', '1', '-subj', '/CN=rogue');
}

