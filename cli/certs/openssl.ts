// X.509 by the openssl command: Node's crypto makes keys but cannot sign certificates. This
// is the only file that knows it, so a library can replace it behind the same two calls.
// Every key is generated in a private temporary directory and written out with mode 0600.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class CertificateToolError extends Error {
  readonly code = 'CERT_TOOL';
}

export interface KeyAndCertificate {
  /** PEM private key (PKCS#8, ECDSA P-256). */
  key: string;
  /** PEM certificate. */
  cert: string;
}

export interface CaRequest {
  commonName: string;
  days: number;
}

export interface LeafRequest {
  commonName: string;
  days: number;
  uris: string[];
  dnsNames: string[];
  ips: string[];
  clientAuth: boolean;
  serverAuth: boolean;
  issuer: KeyAndCertificate;
}

function run(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new CertificateToolError('minting certificates needs the openssl command, which is not installed');
    throw new CertificateToolError(`openssl ${args[0]}: ${err.stderr?.toString().trim() || err.message}`);
  }
}

function inScratch<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'cillion-certs-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const REQ_CONFIG = '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n';

function newKey(dir: string): void {
  run(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'tls.key']);
}

export function createCa(r: CaRequest): KeyAndCertificate {
  return inScratch((dir) => {
    writeFileSync(
      join(dir, 'req.cnf'),
      `${REQ_CONFIG}[v3_ca]\nbasicConstraints = critical,CA:TRUE,pathlen:0\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n`,
    );
    newKey(dir);
    run(dir, ['req', '-x509', '-new', '-key', 'tls.key', '-subj', `/CN=${r.commonName}`, '-days', String(r.days), '-sha256', '-config', 'req.cnf', '-extensions', 'v3_ca', '-set_serial', serial(), '-out', 'tls.crt']);
    return { key: readFileSync(join(dir, 'tls.key'), 'utf8'), cert: readFileSync(join(dir, 'tls.crt'), 'utf8') };
  });
}

export function issueLeaf(r: LeafRequest): KeyAndCertificate {
  return inScratch((dir) => {
    writeFileSync(join(dir, 'ca.key'), r.issuer.key, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.crt'), r.issuer.cert);
    writeFileSync(join(dir, 'req.cnf'), REQ_CONFIG);
    const san = [...r.uris.map((u, i) => `URI.${i + 1} = ${u}`), ...r.dnsNames.map((d, i) => `DNS.${i + 1} = ${d}`), ...r.ips.map((ip, i) => `IP.${i + 1} = ${ip}`)];
    const eku = [...(r.clientAuth ? ['clientAuth'] : []), ...(r.serverAuth ? ['serverAuth'] : [])];
    writeFileSync(
      join(dir, 'ext.cnf'),
      [
        '[leaf]',
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature',
        `extendedKeyUsage = ${eku.join(',')}`,
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        ...(san.length > 0 ? ['subjectAltName = @san', '[san]', ...san] : []),
        '',
      ].join('\n'),
    );
    newKey(dir);
    run(dir, ['req', '-new', '-key', 'tls.key', '-subj', `/CN=${r.commonName}`, '-config', 'req.cnf', '-out', 'req.csr']);
    run(dir, ['x509', '-req', '-in', 'req.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', serial(), '-days', String(r.days), '-sha256', '-extfile', 'ext.cnf', '-extensions', 'leaf', '-out', 'tls.crt']);
    return { key: readFileSync(join(dir, 'tls.key'), 'utf8'), cert: readFileSync(join(dir, 'tls.crt'), 'utf8') };
  });
}

/** A random positive 127-bit serial, as CA/Browser guidance asks for unpredictable serials. */
function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return `0x${b.toString('hex')}`;
}
