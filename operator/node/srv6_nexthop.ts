// Where this node sends a segment list's packets: the kernel's route to the first segment
// (device and gateway) and the neighbour's MAC, read with iproute2 like the SCION uplinks
// (uplinks.ts), optionally inside the node's network namespace. H.Encaps redirects the
// encapsulated packet straight to that device, so the template carries both MACs.
import { execFileSync } from 'node:child_process';
import { Srv6NextHopError, type Srv6NextHop } from '../datapath/srv6';

function ipJson(netns: string | undefined, args: string[]): Array<Record<string, unknown>> {
  const out = execFileSync('ip', [...(netns ? ['-n', netns] : []), '-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trim() === '' ? [] : (JSON.parse(out) as Array<Record<string, unknown>>);
}

/** A device's ifindex, MAC and MTU. */
export function deviceInfo(device: string, netns?: string): { ifindex: number; mac: string; mtu: number } {
  let link: Record<string, unknown> | undefined;
  try {
    [link] = ipJson(netns, ['link', 'show', 'dev', device]);
  } catch {
    link = undefined;
  }
  if (!link) throw new Srv6NextHopError(`no device ${device}${netns ? ` in ${netns}` : ''}`);
  return { ifindex: link.ifindex as number, mac: link.address as string, mtu: link.mtu as number };
}

/**
 * The next hop towards `segment` (an IPv6 SID). The neighbour entry is resolved with one
 * ping when missing; a route that leaves by another device than `device` (when given) is
 * refused, so SRv6 never leaks out of a SCION uplink.
 */
export function resolveNextHop(segment: string, opts: { device?: string; netns?: string } = {}): Srv6NextHop {
  let route: Record<string, unknown> | undefined;
  try {
    [route] = ipJson(opts.netns, ['-6', 'route', 'get', segment]);
  } catch (e) {
    throw new Srv6NextHopError(`no route to ${segment}: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`);
  }
  const dev = route?.dev as string | undefined;
  if (!dev) throw new Srv6NextHopError(`no route to ${segment}`);
  if (opts.device && dev !== opts.device) throw new Srv6NextHopError(`the route to ${segment} leaves by ${dev}, not the SRv6 uplink ${opts.device}`);
  const via = (route?.gateway as string | undefined) ?? segment;
  const link = deviceInfo(dev, opts.netns);
  const neighbour = (): string | undefined => {
    const n = ipJson(opts.netns, ['-6', 'neigh', 'show', 'to', via, 'dev', dev])[0];
    return n && typeof n.lladdr === 'string' && !(n.state as string[] | undefined)?.includes('FAILED') ? n.lladdr : undefined;
  };
  let mac = neighbour();
  if (!mac) {
    try {
      execFileSync('ip', [...(opts.netns ? ['netns', 'exec', opts.netns] : []), 'ping', '-6', '-c', '1', '-W', '1', '-I', dev, via], { stdio: 'ignore' });
    } catch {
      // No echo reply is fine: neighbour discovery is what we wanted.
    }
    mac = neighbour();
  }
  if (!mac) throw new Srv6NextHopError(`cannot resolve the MAC of ${via} on ${dev}`);
  return { ifindex: link.ifindex, srcMac: link.mac, dstMac: mac, mtu: link.mtu };
}
