// How a client command reaches a relay: plaintext on loopback, or TLS with hubble's flag
// names (--tls, --tls-ca-cert-files, --tls-client-cert-file, --tls-client-key-file,
// --tls-server-name), since a relay off loopback requires a client certificate. Each flag
// also comes from an environment variable named like hubble's (CILLION_TLS, ...), so one
// `source` of a file (the demo writes one) sets a shell up; a flag given wins.
import { readFileSync } from 'node:fs';
import { credentials, type ChannelCredentials, type ClientOptions } from '@grpc/grpc-js';
import { Option, type Command } from 'commander';

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

/** Option attribute -> environment variable. */
export const TLS_ENV = {
  tls: 'CILLION_TLS',
  tlsCaCertFiles: 'CILLION_TLS_CA_CERT_FILES',
  tlsClientCertFile: 'CILLION_TLS_CLIENT_CERT_FILE',
  tlsClientKeyFile: 'CILLION_TLS_CLIENT_KEY_FILE',
  tlsServerName: 'CILLION_TLS_SERVER_NAME',
} as const;

export const SERVER_ENV = 'CILLION_SERVER';

export function addTlsOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--tls', 'use TLS to reach the server').env(TLS_ENV.tls))
    .addOption(
      new Option('--tls-ca-cert-files <files>', 'CA certificates (PEM) the server certificate must chain to, comma-separated or repeated; default: the system roots')
        .env(TLS_ENV.tlsCaCertFiles)
        .argParser((v: string, acc: string[] = []) => [...acc, ...v.split(',').filter((f) => f !== '')]),
    )
    .addOption(new Option('--tls-client-cert-file <file>', 'client certificate (PEM) for a server that requires one').env(TLS_ENV.tlsClientCertFile))
    .addOption(new Option('--tls-client-key-file <file>', 'key of the client certificate (PEM)').env(TLS_ENV.tlsClientKeyFile))
    .addOption(new Option('--tls-server-name <name>', 'the name the server certificate must carry, when not the address\'s host').env(TLS_ENV.tlsServerName));
}

/**
 * Forgets the TLS settings that came from the environment: for a command that reads a
 * local store or socket instead, where a shell set up for the relay must not get in the way.
 */
export function dropEnvTls(cmd: Command, t: TlsFlags): void {
  for (const k of Object.keys(TLS_ENV) as Array<keyof typeof TLS_ENV>) {
    if (cmd.getOptionValueSource(k) === 'env') delete t[k];
  }
}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new TlsFlagError(`${what} ${file}: ${(e as Error).message}`);
  }
}

/**
 * How much a stream may have in flight towards this client before it says it took it (HTTP/2
 * flow control). The default 64 KiB is about a hundred flows: reading history, the server
 * then waits for the client more than it writes.
 */
const RECEIVE_WINDOW = { 'grpc-node.flow_control_window': 8 << 20 };

export function connection(address: string, t: TlsFlags): Connection {
  const tlsOnly = t.tlsCaCertFiles !== undefined || t.tlsClientCertFile !== undefined || t.tlsClientKeyFile !== undefined || t.tlsServerName !== undefined;
  if (!t.tls) {
    if (tlsOnly) throw new TlsFlagError('the --tls-* options need --tls');
    return { address, credentials: credentials.createInsecure(), options: { ...RECEIVE_WINDOW } };
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
    options: name === undefined ? { ...RECEIVE_WINDOW } : { ...RECEIVE_WINDOW, 'grpc.ssl_target_name_override': name, 'grpc.default_authority': name },
  };
}
