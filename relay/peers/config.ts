// `cillion relay`'s peer flags turned into PeerOptions, every mistake a clear error before
// anything is opened: --peer name=host:port (repeatable), a client certificate with the peer
// role (--peer-cert, --peer-key), the CA the peers' server certificates chain to (--peer-ca,
// default --tls-client-ca), --peer-server-name, --peer-timeout, --shared-store.
import { credentials } from '@grpc/grpc-js';
import { readFile } from 'node:fs/promises';
import type { PeerOptions, PeerTarget } from './options';
import { MAX_PEERS, PeerConfigError } from './peer_set';
import { isLoopbackListen } from '../tls';

export const DEFAULT_PEER_TIMEOUT_MS = 2000;

/** Relay, peer and cluster names: DNS labels and dots, so "cluster/node" patterns can name them. */
const NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,61}[A-Za-z0-9])?$/;

export function checkName(flag: string, name: string): string {
  if (!NAME.test(name)) throw new PeerConfigError(`${flag} "${name}": letters, digits, '.' and '-', at most 63, starting and ending with a letter or digit`);
  return name;
}

/** A cluster name: a name, but not "relay", which names the peers in reports ("relay/<peer>"). */
export function checkCluster(flag: string, name: string): string {
  checkName(flag, name);
  if (name.toLowerCase() === 'relay') throw new PeerConfigError(`${flag} "${name}" is reserved: peers are reported as nodes "relay/<peer name>"`);
  return name;
}

export interface PeerFlags {
  /** This relay's --name. */
  name: string;
  peer?: string[];
  peerCert?: string;
  peerKey?: string;
  peerCa?: string;
  peerServerName?: string;
  peerTimeout?: number;
  sharedStore?: boolean;
  /** The relay's own --tls-client-ca: the CA of the set's certificates unless --peer-ca says otherwise. */
  tlsClientCa?: string;
  /** The relay listens with TLS: its peers do too, and must be called with a peer certificate. */
  tls: boolean;
  insecureListen?: boolean;
  /** The store is a ClickHouse server (--clickhouse-url), which replicas can share. */
  storeUrl: boolean;
}

/** One --peer value: "name=host:port". */
export function parsePeer(value: string): PeerTarget {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new PeerConfigError(`--peer "${value}": expected name=host:port (the peer relay's --name, then its address)`);
  const name = checkName('--peer name', value.slice(0, eq));
  const address = value.slice(eq + 1);
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(address);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new PeerConfigError(`--peer ${name}: "${address}" is not host:port`);
  return { name, address };
}

async function read(flag: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new PeerConfigError(`${flag} ${file}: ${(e as Error).message}`);
  }
}

/** The relay's peers, or undefined without --peer. */
export async function peerOptions(f: PeerFlags): Promise<PeerOptions | undefined> {
  const peers = f.peer ?? [];
  const peerOnly: [string, unknown][] = [
    ['--peer-cert', f.peerCert],
    ['--peer-key', f.peerKey],
    ['--peer-ca', f.peerCa],
    ['--peer-server-name', f.peerServerName],
    ['--peer-timeout', f.peerTimeout],
    ['--shared-store', f.sharedStore || undefined],
  ];
  if (peers.length === 0) {
    const stray = peerOnly.find(([, v]) => v !== undefined);
    if (stray) throw new PeerConfigError(`${stray[0]} goes with --peer`);
    return undefined;
  }
  if (peers.length > MAX_PEERS) throw new PeerConfigError(`${peers.length} --peer flags; a relay fans out to at most ${MAX_PEERS}`);
  const given = peers.map(parsePeer);
  const names = new Set<string>();
  for (const t of given) {
    if (names.has(t.name)) throw new PeerConfigError(`--peer ${t.name} is given twice`);
    names.add(t.name);
  }
  // A StatefulSet gives every replica the same list, its own entry included: that one is left out.
  const targets = given.filter((t) => t.name !== f.name);
  if (targets.length === 0) return undefined;
  const timeoutMs = f.peerTimeout ?? DEFAULT_PEER_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new PeerConfigError(`--peer-timeout ${timeoutMs}: expected a positive number of milliseconds`);
  if (f.sharedStore && !f.storeUrl) throw new PeerConfigError('--shared-store needs --clickhouse-url: an embedded store (--data-dir) belongs to one relay');
  if ((f.peerCert === undefined) !== (f.peerKey === undefined)) throw new PeerConfigError('give --peer-cert and --peer-key together');
  if (f.peerCert === undefined) {
    if (f.peerCa !== undefined || f.peerServerName !== undefined) throw new PeerConfigError('--peer-ca and --peer-server-name go with --peer-cert and --peer-key');
    if (f.tls) throw new PeerConfigError('this relay speaks TLS, so do its peers: give --peer-cert and --peer-key (a certificate with the peer role)');
    const remote = targets.find((t) => !isLoopbackListen(t.address));
    if (remote && !f.insecureListen) {
      throw new PeerConfigError(`--peer ${remote.name} (${remote.address}) is not on loopback: give --peer-cert and --peer-key for mutual TLS, or --insecure-listen for plaintext`);
    }
    return { targets, credentials: credentials.createInsecure(), timeoutMs, sharedStore: f.sharedStore === true };
  }
  const caFile = f.peerCa ?? f.tlsClientCa;
  if (caFile === undefined) throw new PeerConfigError('TLS peers need the CA their certificates chain to: give --peer-ca (or --tls-client-ca)');
  const [ca, cert, key] = await Promise.all([read('--peer-ca', caFile), read('--peer-cert', f.peerCert), read('--peer-key', f.peerKey as string)]);
  let creds;
  try {
    creds = credentials.createSsl(ca, key, cert);
  } catch (e) {
    throw new PeerConfigError(`--peer-cert/--peer-key/--peer-ca: ${(e as Error).message}`);
  }
  return { targets, credentials: creds, serverName: f.peerServerName, timeoutMs, sharedStore: f.sharedStore === true };
}
