// The relay's gRPC credentials. With a certificate, key and client CA it speaks TLS and
// requires every client (collector or `cillion observe`) to present a certificate from
// that CA. Without them it speaks plaintext, which it does only on a loopback address:
// flows name workloads and paths, so exposing them unauthenticated takes an explicit
// --insecure-listen.
import { ServerCredentials } from '@grpc/grpc-js';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';

export interface RelayTlsOptions {
  cert?: string;
  key?: string;
  clientCa?: string;
  /** Allows plaintext on a non-loopback address. */
  insecureListen?: boolean;
}

export class RelayConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RelayConfigError';
  }
}

/** The server certificate, its key and the client CA, as read from their files. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

export interface ListenCredentials {
  credentials: ServerCredentials;
  tls: boolean;
  /** The files read, for the web UI's HTTPS; undefined on plaintext. */
  files: TlsFiles | undefined;
}

/** The host part of a grpc-js listen address: "host:port", "[v6]:port", "dns:host:port", "unix:path". */
export function listenHost(address: string): string | undefined {
  if (address.startsWith('unix:') || address.startsWith('unix-abstract:')) return undefined;
  const bare = address.replace(/^(dns|ipv4|ipv6):(\/\/[^/]*\/)?/, '');
  const v6 = /^\[([^\]]+)\](:\d+)?$/.exec(bare);
  if (v6) return v6[1];
  const i = bare.lastIndexOf(':');
  return i < 0 || bare.indexOf(':') !== i ? bare : bare.slice(0, i);
}

/** Whether only this machine can reach the address; unix sockets count as local. */
export function isLoopbackListen(address: string): boolean {
  const host = listenHost(address);
  if (host === undefined) return true;
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

/** The server certificate, its key and the client CA, read; undefined when none is given. */
async function readTlsFiles(opts: RelayTlsOptions): Promise<TlsFiles | undefined> {
  const given = [opts.cert, opts.key, opts.clientCa].filter((x) => x !== undefined && x !== '').length;
  if (given === 0) return undefined;
  if (given < 3) throw new RelayConfigError('TLS needs all three of --tls-cert, --tls-key and --tls-client-ca');
  const [cert, key, ca] = await Promise.all([readFile(opts.cert as string), readFile(opts.key as string), readFile(opts.clientCa as string)]);
  return { cert, key, ca };
}

/** Plaintext only on loopback unless the operator says otherwise (the gRPC port and the web UI's alike). */
export function checkPlaintextListen(address: string, opts: RelayTlsOptions): void {
  if (!isLoopbackListen(address) && !opts.insecureListen) {
    throw new RelayConfigError(
      `refusing to serve flows without TLS on ${address}, which is not a loopback address: ` +
        'give --tls-cert, --tls-key and --tls-client-ca, or --insecure-listen to accept plaintext',
    );
  }
}

export async function listenCredentials(address: string, opts: RelayTlsOptions): Promise<ListenCredentials> {
  const files = await readTlsFiles(opts);
  if (files) return { credentials: ServerCredentials.createSsl(files.ca, [{ cert_chain: files.cert, private_key: files.key }], true), tls: true, files };
  checkPlaintextListen(address, opts);
  return { credentials: ServerCredentials.createInsecure(), tls: false, files: undefined };
}
