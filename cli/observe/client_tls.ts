// How a client command reaches a relay: plaintext on loopback, or TLS with hubble's flag
// names (--tls, --tls-ca-cert-files, --tls-client-cert-file, --tls-client-key-file,
// --tls-server-name), since a relay off loopback requires a client certificate.
import { readFileSync } from 'node:fs';
import { credentials, type ChannelCredentials, type ClientOptions } from '@grpc/grpc-js';
import type { Command } from 'commander';

export interface TlsFlags {
  tls?: boolean;
  tlsCaCertFiles?: string[];
  tlsClientCertFile?: string;
  tlsClientKeyFile?: string;
  tlsServerName?: string;
}

/** An address with what it takes to talk to it. */
export interface Connection {
  address: string;
  credentials: ChannelCredentials;
  options: ClientOptions;
}

export class TlsFlagError extends Error {
  readonly code = 'TLS_FLAGS';
}

export function addTlsOptions(cmd: Command): Command {
  return cmd
    .option('--tls', 'use TLS to reach the server')
    .option('--tls-ca-cert-files <files>', 'CA certificates (PEM) the server certificate must chain to, comma-separated or repeated; default: the system roots', (v: string, acc: string[] = []) => [...acc, ...v.split(',').filter((f) => f !== '')])
    .option('--tls-client-cert-file <file>', 'client certificate (PEM) for a server that requires one')
    .option('--tls-client-key-file <file>', 'key of the client certificate (PEM)')
    .option('--tls-server-name <name>', 'the name the server certificate must carry, when not the address\'s host');
}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new TlsFlagError(`${what} ${file}: ${(e as Error).message}`);
  }
}

export function connection(address: string, t: TlsFlags): Connection {
  const tlsOnly = t.tlsCaCertFiles !== undefined || t.tlsClientCertFile !== undefined || t.tlsClientKeyFile !== undefined || t.tlsServerName !== undefined;
  if (!t.tls) {
    if (tlsOnly) throw new TlsFlagError('the --tls-* options need --tls');
    return { address, credentials: credentials.createInsecure(), options: {} };
  }
  if (address.startsWith('unix:')) throw new TlsFlagError('--tls goes with a host:port server, not a unix socket');
  if ((t.tlsClientCertFile === undefined) !== (t.tlsClientKeyFile === undefined)) throw new TlsFlagError('give --tls-client-cert-file and --tls-client-key-file together');
  const ca = t.tlsCaCertFiles?.length ? Buffer.concat(t.tlsCaCertFiles.map((f) => read(f, '--tls-ca-cert-files'))) : null;
  const key = t.tlsClientKeyFile === undefined ? null : read(t.tlsClientKeyFile, '--tls-client-key-file');
  const cert = t.tlsClientCertFile === undefined ? null : read(t.tlsClientCertFile, '--tls-client-cert-file');
  const name = t.tlsServerName;
  return {
    address,
    credentials: credentials.createSsl(ca, key, cert),
    options: name === undefined ? {} : { 'grpc.ssl_target_name_override': name, 'grpc.default_authority': name },
  };
}
