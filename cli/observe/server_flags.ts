// The --server / --node pair every Observer client command takes, and TLS for the server.
import { Option, type Command } from 'commander';
import { DEFAULT_NODE_SOCKET, DEFAULT_SERVER } from './client';
import { addTlsOptions, connection, dropEnvTls, SERVER_ENV, TlsFlagError, type Connection, type TlsFlags } from './client_tls';

export interface ServerFlags extends TlsFlags {
  server: string;
  node?: string | true;
}

export function addServerOptions(cmd: Command): Command {
  cmd
    .addOption(new Option('--server <address>', 'Observer API address (host:port or unix:///path)').default(DEFAULT_SERVER).env(SERVER_ENV))
    .option('--node [socket]', `this node's collector instead of the relay (default ${DEFAULT_NODE_SOCKET})`);
  return addTlsOptions(cmd);
}

export function serverAddress(opts: ServerFlags): string {
  if (opts.node === undefined) return opts.server;
  return opts.node === true ? DEFAULT_NODE_SOCKET : opts.node;
}

export function serverConnection(opts: ServerFlags): Connection {
  return connection(serverAddress(opts), opts);
}

/** The command's server connection; TLS flags that do not fit together are a usage error (exit 2). */
export function connectOrExit(cmd: Command, opts: ServerFlags): Connection {
  // The node's own socket takes no TLS: settings from the environment are for the relay.
  if (opts.node !== undefined) dropEnvTls(cmd, opts);
  try {
    return serverConnection(opts);
  } catch (e) {
    if (e instanceof TlsFlagError) cmd.error(`error: ${e.message}`);
    throw e;
  }
}

/** Duration in the short style kubectl and hubble use for ages: 45s, 12m, 3h, 2d. */
export function age(ns: bigint): string {
  const s = Number(ns / 1_000_000_000n);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
