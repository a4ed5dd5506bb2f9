// Hosts as network namespaces joined by veth links, and their removal. Every namespace
// carries one prefix, so the leftovers of a run that died before its cleanup can be swept.
// The demo builds its WAN and clusters with it; the datapath tests build theirs.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export interface NetnsEndpoint {
  ns: string;
  ifname: string;
  /** Address with prefix length, e.g. "10.1.0.1/24"; addresses live only inside the namespaces. */
  addr?: string;
}

export interface LinkInfo {
  a: NetnsEndpoint & { ifindex: number; mac: string };
  b: NetnsEndpoint & { ifindex: number; mac: string };
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Names of the namespaces that start with `${prefix}-`. */
export function namespacesWithPrefix(prefix: string): string[] {
  return ip(['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(`${prefix}-`));
}

export class NetnsHosts {
  private readonly namespaces: string[] = [];
  private readonly children: ChildProcess[] = [];
  private links = 0;

  /**
   * `tmpTag` starts the names veth pairs have in the root namespace for the moment between
   * their creation and their move; at most 10 characters.
   */
  constructor(
    readonly prefix: string,
    private readonly tmpTag: string = `v${process.pid % 100000}`,
  ) {}

  /** Creates a namespace named `${prefix}-${name}` with loopback up; returns its full name. */
  addHost(name: string): string {
    const ns = `${this.prefix}-${name}`;
    ip(['netns', 'add', ns]);
    this.namespaces.push(ns);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Joins two namespaces with a veth pair, assigns addresses and brings both ends up. */
  link(a: NetnsEndpoint, b: NetnsEndpoint): LinkInfo {
    const n = this.links++;
    const tmpA = `${this.tmpTag}a${n}`;
    const tmpB = `${this.tmpTag}b${n}`;
    ip(['link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
    ip(['link', 'set', tmpA, 'netns', a.ns, 'name', a.ifname]);
    ip(['link', 'set', tmpB, 'netns', b.ns, 'name', b.ifname]);
    for (const end of [a, b]) {
      if (end.addr) ip(['-n', end.ns, 'addr', 'add', end.addr, 'dev', end.ifname]);
      ip(['-n', end.ns, 'link', 'set', end.ifname, 'up']);
    }
    return { a: { ...a, ...this.linkAttrs(a) }, b: { ...b, ...this.linkAttrs(b) } };
  }

  linkAttrs(end: NetnsEndpoint): { ifindex: number; mac: string } {
    const [info] = JSON.parse(ip(['-n', end.ns, '-j', 'link', 'show', 'dev', end.ifname])) as Array<{
      ifindex: number;
      address: string;
    }>;
    return { ifindex: info.ifindex, mac: info.address };
  }

  /** Runs a command inside a namespace to completion and returns its stdout. */
  exec(ns: string, cmd: string, args: string[]): string {
    return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Starts a long-running command inside a namespace; it is killed on destroy(). */
  spawn(ns: string, cmd: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }

  /** Kills started processes and deletes every namespace (their veth ends go with them). */
  destroy(): void {
    for (const child of this.children.splice(0)) {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    for (const ns of this.namespaces.splice(0)) {
      try {
        ip(['netns', 'del', ns]);
      } catch {
        // Already gone: a test may delete a host on purpose.
      }
    }
  }

  /** Deletes namespaces left by an earlier run that died before its cleanup. */
  static sweep(prefix: string): void {
    for (const ns of namespacesWithPrefix(prefix)) ip(['netns', 'del', ns]);
  }

  /** Deletes veth pairs a run died with in the root namespace, before moving them. */
  static sweepTmpLinks(tmpTag: string): void {
    const links = JSON.parse(ip(['-j', 'link', 'show', 'type', 'veth'])) as Array<{ ifname: string }>;
    for (const l of links) {
      if (new RegExp(`^${tmpTag}[ab]\\d+$`).test(l.ifname)) {
        try {
          ip(['link', 'del', l.ifname]);
        } catch {
          // Its peer's deletion took it along.
        }
      }
    }
  }
}
