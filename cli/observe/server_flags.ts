// The --server / --node pair every Observer client command takes.
import type { Command } from 'commander';
import { DEFAULT_NODE_SOCKET, DEFAULT_SERVER } from './client';

export function addServerOptions(cmd: Command): Command {
  return cmd
    .option('--server <address>', 'Observer API address (host:port or unix:///path)', DEFAULT_SERVER)
    .option('--node [socket]', `this node's collector instead of the relay (default ${DEFAULT_NODE_SOCKET})`);
}

export function serverAddress(opts: { server: string; node?: string | true }): string {
  if (opts.node === undefined) return opts.server;
  return opts.node === true ? DEFAULT_NODE_SOCKET : opts.node;
}

/** Duration in the short style kubectl and hubble use for ages: 45s, 12m, 3h, 2d. */
export function age(ns: bigint): string {
  const s = Number(ns / 1_000_000_000n);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
