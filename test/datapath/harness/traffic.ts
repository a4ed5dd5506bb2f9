// Real traffic between pods: peer.js run inside their namespaces. Servers stop after
// their lifetime, clients after their timeout, so nothing outlives a test.
import { execFile, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Topology } from './topology';

const PEER = join(__dirname, 'peer.js');
const run = promisify(execFile);

/** Starts an echo server in `ns` and resolves once it listens. */
export function echoServer(hosts: Topology, ns: string, proto: 'udp' | 'tcp', port: number, lifetimeMs = 20000): Promise<ChildProcess> {
  const child = hosts.spawn(ns, process.execPath, [PEER, `${proto}-echo`, String(port), String(lifetimeMs)]);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"ready"')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`echo server in ${ns} exited ${code}: ${out}`)));
  });
}

/** Sends `count` UDP datagrams of `size` bytes from `srcPort` and counts the echoes. */
export async function udpEcho(
  ns: string,
  dst: string,
  port: number,
  opts: { count: number; size: number; srcPort: number; timeoutMs?: number },
): Promise<{ sent: number; received: number }> {
  const { stdout } = await run('ip', [
    'netns', 'exec', ns, process.execPath, PEER, 'udp-send', dst, String(port), String(opts.count), String(opts.size),
    String(opts.srcPort), String(opts.timeoutMs ?? 3000),
  ]);
  return JSON.parse(stdout.trim().split('\n').pop() as string);
}

/** Sends `rounds` datagrams of `size` bytes from `srcPort` to each of `flows` ports from `basePort`, round after round. */
export async function udpSpray(
  ns: string,
  dst: string,
  opts: { basePort: number; flows: number; rounds: number; size: number; srcPort: number },
): Promise<{ sent: number; failed: number }> {
  const { stdout } = await run('ip', [
    'netns', 'exec', ns, process.execPath, PEER, 'udp-spray', dst, String(opts.basePort), String(opts.flows), String(opts.rounds),
    String(opts.size), String(opts.srcPort),
  ], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop() as string);
}

/** udpSpray at `perSecond` datagrams a second by the wall clock, whatever the timers do. */
export async function udpPaced(
  ns: string,
  dst: string,
  opts: { basePort: number; flows: number; rounds: number; size: number; srcPort: number; perSecond: number },
): Promise<{ sent: number; failed: number }> {
  const { stdout } = await run('ip', [
    'netns', 'exec', ns, process.execPath, PEER, 'udp-paced', dst, String(opts.basePort), String(opts.flows), String(opts.rounds),
    String(opts.size), String(opts.srcPort), String(opts.perSecond),
  ], { timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').pop() as string);
}

/** Sends `bytes` over one TCP connection and reads them back. */
export async function tcpEcho(ns: string, dst: string, port: number, bytes: number, timeoutMs = 5000): Promise<{ sent: number; received: number; error?: string }> {
  const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, PEER, 'tcp-send', dst, String(port), String(bytes), String(timeoutMs)]);
  return JSON.parse(stdout.trim().split('\n').pop() as string);
}

/** A tcpdump of one device in a namespace, written to `file` until stop(). */
export async function startCapture(hosts: Topology, ns: string, ifname: string, file: string, filter = 'udp'): Promise<{ stop(): Promise<Uint8Array> }> {
  const dump = hosts.spawn(ns, 'tcpdump', ['--immediate-mode', '-U', '-i', ifname, '-w', file, ...filter.split(' ')]);
  await new Promise<void>((resolve, reject) => {
    dump.stderr?.on('data', (d: Buffer) => d.toString().includes('listening on') && resolve());
    dump.on('exit', (code) => reject(new Error(`tcpdump in ${ns} exited ${code}`)));
  });
  return {
    async stop(): Promise<Uint8Array> {
      await new Promise((r) => setTimeout(r, 200));
      const exited = new Promise((r) => dump.on('exit', r));
      dump.kill('SIGINT');
      await exited;
      return readFileSync(file);
    },
  };
}
