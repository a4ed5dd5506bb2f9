// What the node knows about its uplinks and the ClusterAS does not: which device carries
// each SCION interface, its address and MAC, and the first-hop router's MAC. Read with
// iproute2, optionally inside the node's network namespace.
import { execFileSync } from 'node:child_process';
import type { NodeUplink } from '../datapath/desired';
import type { ClusterAS } from '../../resources/clusteras';

export class UplinkError extends Error {
  readonly code = 'BAD_UPLINK';
}

export interface UplinkSpec {
  ifid: number;
  device: string;
  /** UDP port the first-hop router sends to; default 50000 + ifid. */
  localPort?: number;
}

/** Parses `IFID=DEVICE[:PORT]`. */
export function parseUplink(text: string): UplinkSpec {
  const m = /^(\d+)=([A-Za-z0-9_.@-]+?)(?::(\d+))?$/.exec(text);
  if (!m) throw new UplinkError(`uplink "${text}" is not IFID=DEVICE[:PORT]`);
  return { ifid: Number(m[1]), device: m[2], ...(m[3] ? { localPort: Number(m[3]) } : {}) };
}

function ipJson(netns: string | undefined, args: string[]): Array<Record<string, unknown>> {
  const out = execFileSync('ip', [...(netns ? ['-n', netns] : []), '-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trim() === '' ? [] : (JSON.parse(out) as Array<Record<string, unknown>>);
}

function splitHostPort(underlay: string): [string, number] {
  const i = underlay.lastIndexOf(':');
  return [underlay.slice(0, i).replace(/^\[|\]$/g, ''), Number(underlay.slice(i + 1))];
}

/**
 * The node's uplinks for `cluster`, each joined with the ClusterAS's first-hop underlay.
 * The router's MAC comes from the neighbour table; a missing entry is resolved with one ping.
 */
export function discoverUplinks(cluster: ClusterAS, specs: readonly UplinkSpec[], netns?: string): NodeUplink[] {
  return specs.map((s) => {
    const declared = cluster.spec.uplinks.find((u) => u.interface === s.ifid);
    if (!declared) throw new UplinkError(`ClusterAS ${cluster.metadata.name} has no uplink with interface ${s.ifid}`);
    const [remoteIp, remotePort] = splitHostPort(declared.underlay);
    const [link] = ipJson(netns, ['link', 'show', 'dev', s.device]);
    if (!link) throw new UplinkError(`no device ${s.device}`);
    const [addr] = ipJson(netns, ['-4', 'addr', 'show', 'dev', s.device]);
    const local = (addr?.addr_info as Array<{ local: string }> | undefined)?.[0]?.local;
    if (!local) throw new UplinkError(`device ${s.device} has no IPv4 address`);
    const neighbour = (): string | undefined =>
      (ipJson(netns, ['neigh', 'show', 'to', remoteIp, 'dev', s.device])[0]?.lladdr as string | undefined) ?? undefined;
    let remoteMac = neighbour();
    if (!remoteMac) {
      try {
        execFileSync('ip', [...(netns ? ['netns', 'exec', netns] : []), 'ping', '-c', '1', '-W', '1', '-I', s.device, remoteIp], { stdio: 'ignore' });
      } catch {
        // No echo reply is fine: the ARP exchange is what we wanted.
      }
      remoteMac = neighbour();
    }
    if (!remoteMac) throw new UplinkError(`cannot resolve the MAC of the first-hop router ${remoteIp} on ${s.device}`);
    return {
      ifid: s.ifid, ifindex: link.ifindex as number, localIp: local, localPort: s.localPort ?? 50000 + s.ifid,
      localMac: link.address as string, remoteIp, remotePort, remoteMac,
    };
  });
}
