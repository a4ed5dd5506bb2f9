// `cillion srv6-node`: one provider node of an SRv6 network, as the SID catalogue describes
// it: the XDP endpoint program on every interface of its namespace, its End SIDs and its
// locators programmed. Loads and pins from the root namespace and enters the node's
// namespace only to attach. It drains its ring and counts what the program handled (End
// forwards and every drop reason), prints that on --stats and when it stops, and on SIGINT
// or SIGTERM detaches and removes its pins.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { PIN_BASE } from '../../bpf/datapath';
import { RingReader } from '../../bpf/native';
import { decodeBatch } from '../../bpf/records';
import { Srv6Datapath } from '../../bpf/srv6_datapath';
import { Lifecycle } from '../../lifecycle/lifecycle';
import { loadSidCatalogue, type SidCatalogue } from '../../srv6/catalogue';
import { signalled } from '../node';
import { iprouteHost } from './router';

interface Srv6NodeOptions {
  catalogue: string;
  node: string;
  netns?: string;
  instance?: string;
  stats: number;
}

export class Srv6NodeError extends Error {
  override readonly name = 'Srv6NodeError';
  constructor(
    readonly code: 'NOT_IN_CATALOGUE' | 'NOT_PROVIDER' | 'UNSUPPORTED_BEHAVIOR' | 'NO_DEVICES',
    message: string,
  ) {
    super(message);
  }
}

/** Bytes drained from the ring at a time: a few hundred records. */
const RING_BATCH_BYTES = 256 << 10;

/** The End SIDs and the locator of provider node `name`; anything but End is refused, naming it. */
export function providerProgram(cat: SidCatalogue, name: string): { locator: string; endSids: string[] } {
  const node = cat.node(name);
  if (!node) throw new Srv6NodeError('NOT_IN_CATALOGUE', `${name} is no node of the catalogue`);
  if (node.role !== 'provider') throw new Srv6NodeError('NOT_PROVIDER', `${name} is an edge node: its agent serves it (--srv6-uplink), not srv6-node`);
  const sids = cat.sidsOf(name);
  // A provider node forwards; End.X needs an adjacency this command does not resolve, and the
  // decapsulating behaviors belong to edge nodes.
  const other = sids.find((s) => s.behavior !== 'End');
  if (other) throw new Srv6NodeError('UNSUPPORTED_BEHAVIOR', `${name}: SID ${other.sid} is ${other.behavior}; srv6-node runs End SIDs only`);
  return { locator: node.locatorText, endSids: sids.map((s) => s.sid) };
}

/** What the ring said so far: records by what happened to the packet. */
class RecordTally {
  records = 0;
  readonly byOutcome = new Map<string, number>();
  decodeErrors = 0;

  readonly ingest = (buf: Buffer, _records: number, bytes: number): void => {
    for (const r of decodeBatch(buf, bytes, () => void this.decodeErrors++)) {
      this.records++;
      const what = r.verdict === 'DROPPED' ? `dropped ${r.dropReason ?? 'unknown'}` : 'forwarded';
      this.byOutcome.set(what, (this.byOutcome.get(what) ?? 0) + 1);
    }
  };

  describe(): string {
    const parts = [...this.byOutcome].sort((a, b) => b[1] - a[1]).map(([what, n]) => `${what} ${n}`);
    return `${this.records} records${parts.length ? ` (${parts.join(', ')})` : ''}${this.decodeErrors ? `, ${this.decodeErrors} undecodable` : ''}`;
  }
}

function statsLine(name: string, dp: Srv6Datapath, tally: RecordTally): string {
  const counters = Object.entries(dp.counterTotals())
    .map(([k, v]) => `${k} ${v.packets}`)
    .join(', ');
  return `srv6-node ${name}: ${tally.describe()}; counters: ${counters || 'none'}`;
}

async function run(opts: Srv6NodeOptions): Promise<void> {
  const cat = loadSidCatalogue(opts.catalogue);
  const program = providerProgram(cat, opts.node);
  const netnsName = opts.netns && !opts.netns.includes('/') ? opts.netns : undefined;
  const netnsPath = opts.netns ? (opts.netns.includes('/') ? opts.netns : `/var/run/netns/${opts.netns}`) : undefined;
  const devices = [...iprouteHost(netnsName).devices()].filter(([name]) => name !== 'lo');
  if (devices.length === 0) throw new Srv6NodeError('NO_DEVICES', `no interface but lo${opts.netns ? ` in ${opts.netns}` : ''}`);
  const instance = opts.instance ?? `srv6-${opts.node}`;
  const life = new Lifecycle();
  try {
    const dp = Srv6Datapath.load({ instance });
    life.defer('datapath', () => {
      dp.close();
      rmSync(join(PIN_BASE, instance), { recursive: true, force: true });
    });
    dp.locators.set(program.locator, 1);
    for (const sid of program.endSids) dp.localSids.set(sid, { behavior: 'End', tenantId: 0, ifindex: 0, srcMac: '00:00:00:00:00:00', dstMac: '00:00:00:00:00:00' });
    const tally = new RecordTally();
    const reader = new RingReader(dp.events, { bufferBytes: RING_BATCH_BYTES, onBatch: tally.ingest });
    reader.start();
    life.defer('ring reader', () => {
      reader.stop();
      reader.drain();
    });
    for (const [, d] of devices) {
      dp.attachEndpoint(d.ifindex, { netns: netnsPath });
      life.defer(`XDP on ifindex ${d.ifindex}`, () => {
        try {
          dp.detachEndpoint(d.ifindex, { netns: netnsPath });
        } catch {
          // The namespace may be gone with its devices.
        }
      });
    }
    // Listening before it says it serves: a signal right after that line must find a handler.
    const stopped = signalled();
    const node = cat.node(opts.node);
    process.stderr.write(
      `srv6-node ${opts.node} (${node?.operator ?? '?'}, ${node?.geo?.country ?? '?'}): serving End ${program.endSids.join(', ')} in ${program.locator} on ${devices.map(([n]) => n).join(', ')}\n`,
    );
    const timer = opts.stats > 0 ? setInterval(() => process.stderr.write(`${statsLine(opts.node, dp, tally)}\n`), opts.stats * 1000) : setInterval(() => undefined, 1 << 30);
    life.defer('stats', () => {
      clearInterval(timer);
      process.stderr.write(`${statsLine(opts.node, dp, tally)}\n`);
    });
    await stopped;
  } finally {
    await life.stop();
  }
}

function seconds(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number of seconds, 0 for none');
  return n;
}

export function srv6NodeCommand(): Command {
  return new Command('srv6-node')
    .description('run one provider node of an SRv6 network: the XDP endpoint program (End) on its interfaces, SIDs and locator from the SID catalogue')
    .requiredOption('--catalogue <file>', 'SID catalogue (nodes, locators, SIDs, links)')
    .requiredOption('--node <name>', 'the provider node to run')
    .option('--netns <name|path>', 'network namespace of its devices (attach enters it); every device but lo gets the program')
    .option('--instance <name>', 'pin directory under /sys/fs/bpf/cillion (default srv6-<node>)')
    .addOption(new Option('--stats <seconds>', 'print the records and counters every this many seconds (they are printed on exit too); 0: only on exit').default(0).argParser(seconds))
    .action(async (opts: Srv6NodeOptions) => {
      try {
        await run(opts);
      } catch (e) {
        process.stderr.write(`cillion srv6-node: ${(e as Error).message}\n`);
        process.exitCode = e instanceof InvalidArgumentError ? 2 : 1;
      }
    });
}
