// `cillion router`: one transit AS of a test topology, forwarding SCION in XDP. The topology
// file gives the AS's key and, per interface, the underlay of both ends; the devices come
// from --if or from the address each interface's underlay names. Loads and pins from the
// root namespace and enters the AS's namespace only to attach; on SIGINT or SIGTERM it
// detaches and removes its pins.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { hopFieldKeyMaterial } from '../../bpf/aes_keys';
import { realtimeOffsetNs } from '../../bpf/clock';
import { PIN_BASE, RouterDatapath } from '../../bpf/datapath';
import { serveMetrics } from '../../metrics/endpoint';
import { Lifecycle } from '../../lifecycle/lifecycle';
import { describeHopMac } from '../../metrics/hop_mac_info';
import { RouterMetrics } from '../../metrics/router';
import type { InterfaceEntry } from '../../bpf/maps';
import { formatInterface, loadTopology, type Topology } from '../../controlplane/topology';
import { formatIA, parseIA, type IA } from '../../scion/isdas';
import { signalled } from '../node';

interface RouterOptions {
  topology: string;
  ia: string;
  netns?: string;
  instance?: string;
  if: string[];
  hopMac: 'auto' | 'table';
  metrics: string;
}

export class RouterConfigError extends Error {
  override readonly name = 'RouterConfigError';
}

export interface DeviceAddress {
  ifindex: number;
  mac: string;
  /** IPv4 addresses of the device. */
  addrs: string[];
}

/** What the router needs of its namespace: devices by name, and the neighbour MAC of an address. */
export interface RouterHost {
  devices(): Map<string, DeviceAddress>;
  neighbourMac(dev: string, ip: string): string | undefined;
}

export interface RouterInterface {
  ifid: number;
  device: string;
  /** The link's other end, "ISD-AS#ifid". */
  remote: string;
  entry: InterfaceEntry;
}

interface IfOverride {
  device: string;
  port?: number;
}

/** Parses `IFID=DEVICE[:PORT]`. */
export function parseIfOption(text: string): [number, IfOverride] {
  const m = /^(\d+)=([A-Za-z0-9_.@-]+?)(?::(\d+))?$/.exec(text);
  if (!m) throw new InvalidArgumentError(`"${text}" is not IFID=DEVICE[:PORT]`);
  return [Number(m[1]), { device: m[2], ...(m[3] ? { port: Number(m[3]) } : {}) }];
}

function splitUnderlay(u: string): [string, number | undefined] {
  const i = u.lastIndexOf(':');
  if (i < 0 || u.includes(']') || u.indexOf(':') !== i) return [u, undefined];
  return [u.slice(0, i), Number(u.slice(i + 1))];
}

/**
 * The AS's interfaces as the datapath needs them. Without overrides every interface with an
 * underlay is served, on the device that holds the underlay's address; with overrides only
 * those. The remote end of each link must have an underlay in the topology.
 */
export function resolveInterfaces(topology: Topology, ia: IA, overrides: ReadonlyMap<number, IfOverride>, host: RouterHost): RouterInterface[] {
  const as = topology.ases.get(ia);
  if (!as) throw new RouterConfigError(`${formatIA(ia)} is not in the topology`);
  for (const ifid of overrides.keys()) {
    if (!as.interfaces.has(ifid)) throw new RouterConfigError(`--if ${ifid}: ${formatIA(ia)} has no interface ${ifid}`);
  }
  const devices = host.devices();
  const served = [...as.interfaces.values()].filter((f) => (overrides.size > 0 ? overrides.has(f.ifid) : f.underlay !== undefined));
  if (served.length === 0) throw new RouterConfigError(`no interface of ${formatIA(ia)} has an underlay in the topology; name them with --if IFID=DEVICE`);
  return served
    .sort((a, b) => a.ifid - b.ifid)
    .map((f) => {
      const name = formatInterface({ ia, ifid: f.ifid });
      const [ownIp, ownPort] = f.underlay ? splitUnderlay(f.underlay) : [undefined, undefined];
      const o = overrides.get(f.ifid);
      const device = o?.device ?? [...devices].find(([, d]) => d.addrs.includes(ownIp as string))?.[0];
      if (!device) throw new RouterConfigError(`${name}: no device holds its underlay address ${ownIp}`);
      const dev = devices.get(device);
      if (!dev) throw new RouterConfigError(`${name}: no device ${device}`);
      const localIp = ownIp && dev.addrs.includes(ownIp) ? ownIp : dev.addrs[0];
      if (!localIp) throw new RouterConfigError(`${name}: device ${device} has no IPv4 address`);
      const remoteUnderlay = topology.ases.get(f.remote.ia)?.interfaces.get(f.remote.ifid)?.underlay;
      if (!remoteUnderlay) throw new RouterConfigError(`${name}: the topology gives no underlay for its remote end ${formatInterface(f.remote)}`);
      const [remoteIp, remotePort] = splitUnderlay(remoteUnderlay);
      if (remotePort === undefined) throw new RouterConfigError(`${name}: the underlay ${remoteUnderlay} of ${formatInterface(f.remote)} has no port`);
      const remoteMac = host.neighbourMac(device, remoteIp);
      if (!remoteMac) throw new RouterConfigError(`${name}: cannot resolve the MAC of ${remoteIp} on ${device}`);
      return {
        ifid: f.ifid,
        device,
        remote: formatInterface(f.remote),
        entry: { ifindex: dev.ifindex, localIp, localPort: o?.port ?? ownPort ?? 50000 + f.ifid, localMac: dev.mac, remoteIp, remotePort, remoteMac },
      };
    });
}

/** iproute2 in the namespace `netns` (a name under /var/run/netns), or in this one. */
export function iprouteHost(netns: string | undefined): RouterHost {
  const ipJson = (args: string[]): Array<Record<string, unknown>> => {
    const out = execFileSync('ip', [...(netns ? ['-n', netns] : []), '-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.trim() === '' ? [] : (JSON.parse(out) as Array<Record<string, unknown>>);
  };
  const lookup = (dev: string, ip: string): string | undefined => ipJson(['neigh', 'show', 'to', ip, 'dev', dev])[0]?.lladdr as string | undefined;
  return {
    devices: () =>
      new Map(
        ipJson(['addr', 'show']).map((d) => [
          d.ifname as string,
          {
            ifindex: d.ifindex as number,
            mac: (d.address as string | undefined) ?? '',
            addrs: ((d.addr_info as Array<{ family: string; local: string }> | undefined) ?? []).filter((a) => a.family === 'inet').map((a) => a.local),
          },
        ]),
      ),
    neighbourMac: (dev, ip) => {
      const known = lookup(dev, ip);
      if (known) return known;
      try {
        // One echo request makes the kernel resolve the neighbour; the reply does not matter.
        execFileSync('ip', [...(netns ? ['netns', 'exec', netns] : []), 'ping', '-c', '1', '-W', '1', '-I', dev, ip], { stdio: 'ignore' });
      } catch {
        // No reply is fine: the ARP exchange is what was wanted.
      }
      return lookup(dev, ip);
    },
  };
}

async function run(opts: RouterOptions): Promise<void> {
  let ia: IA;
  try {
    ia = parseIA(opts.ia);
  } catch (e) {
    throw new InvalidArgumentError(`--ia: ${(e as Error).message}`);
  }
  const overrides = new Map(opts.if.map(parseIfOption));
  const topology = loadTopology(opts.topology);
  const as = topology.ases.get(ia);
  if (!as) throw new RouterConfigError(`${formatIA(ia)} is not in ${opts.topology}`);
  const netnsName = opts.netns && !opts.netns.includes('/') ? opts.netns : undefined;
  const netnsPath = opts.netns ? (opts.netns.includes('/') ? opts.netns : `/var/run/netns/${opts.netns}`) : undefined;
  const ifaces = resolveInterfaces(topology, ia, overrides, iprouteHost(netnsName));
  const instance = opts.instance ?? `router-${formatIA(ia).replace(/[-:]/g, '_')}`;
  const life = new Lifecycle();
  try {
    const dp = loadDatapath(instance, opts.hopMac, life);
    dp.config.set(0, { localIA: ia, realtimeOffsetNs: realtimeOffsetNs(), key: hopFieldKeyMaterial(as.hopKey) });
    for (const f of ifaces) {
      dp.ifindexToIfid.set(f.entry.ifindex, f.ifid);
      dp.interfaces.set(f.ifid, f.entry);
    }
    for (const f of ifaces) attach(dp, f.entry.ifindex, netnsPath, life);
    const list = ifaces.map((f) => `#${f.ifid} ${f.device} ${f.entry.localIp}:${f.entry.localPort} → ${f.remote}`).join(', ');
    // Listening before the router says it forwards: a signal right after that line must find a handler.
    const stopped = signalled();
    process.stderr.write(`router ${formatIA(ia)} (${as.name}): forwarding on ${list}; ${describeHopMac(dp.hopMac)}\n`);
    if (opts.metrics !== '') {
      const metrics = await life.start('metrics endpoint', () => serveMetrics(opts.metrics, new RouterMetrics({ hopMac: dp.hopMac, datapath: () => dp.counterTotals() })), (m) => () => m.close());
      process.stderr.write(`router ${formatIA(ia)}: metrics on http://${metrics.address}/metrics\n`);
    }
    // The programs forward in the kernel; this timer is what keeps the process (and so its
    // detach on exit) around, since signal handlers alone do not hold the event loop open.
    const alive = setInterval(() => undefined, 1 << 30);
    await stopped;
    clearInterval(alive);
  } finally {
    await life.stop();
  }
}

/** Loads the router's programs and maps; stopping closes them and removes their pins. */
function loadDatapath(instance: string, hopMac: RouterOptions['hopMac'], life: Lifecycle): RouterDatapath {
  // Nobody drains a router's ring here: it is loaded without per-packet records.
  const dp = RouterDatapath.load({ instance, records: false, hopMac });
  life.defer('datapath', () => {
    dp.close();
    rmSync(join(PIN_BASE, instance), { recursive: true, force: true });
  });
  return dp;
}

function attach(dp: RouterDatapath, ifindex: number, netnsPath: string | undefined, life: Lifecycle): void {
  dp.attach(ifindex, netnsPath);
  life.defer(`XDP on ifindex ${ifindex}`, () => {
    try {
      dp.detach(ifindex, netnsPath);
    } catch {
      // The namespace may be gone with its devices.
    }
  });
}

export function routerCommand(): Command {
  return new Command('router')
    .description('run one transit AS of a topology file: the XDP border router on its interfaces')
    .requiredOption('--topology <file>', 'topology file (ASes, keys, links, interface underlays)')
    .requiredOption('--ia <isd-as>', 'the AS to run')
    .option('--netns <name|path>', 'network namespace of its devices (attach enters it)')
    .option('--instance <name>', 'pin directory under /sys/fs/bpf/cillion (default router-<ISD_AS>)')
    .option('--if <ifid=device[:port]>', 'serve this interface on this device (repeatable; default: every interface with an underlay)', (v: string, acc: string[]) => [...acc, v], [])
    .addOption(new Option('--hop-mac <method>', 'hop-field MACs: auto (kernel crypto kfuncs where the kernel allows, else table AES) or table (force the fallback)').choices(['auto', 'table']).default('auto'))
    .addOption(new Option('--metrics <host:port>', 'HTTP address for Prometheus /metrics; empty to disable').default(''))
    .action(async (opts: RouterOptions) => {
      try {
        await run(opts);
      } catch (e) {
        process.stderr.write(`cillion router: ${(e as Error).message}\n`);
        process.exitCode = e instanceof InvalidArgumentError ? 2 : 1;
      }
    });
}
