// `cillion status`: the Observer API's ServerStatus as a short summary, like `hubble status`.
import { Metadata } from '@grpc/grpc-js';
import { Command, Option } from 'commander';
import { ServerStatusRequest, ServerStatusResponse, type FlowHolder, type LossCounter } from '../../proto/gen/observer/observer';
import { describeHopMac, fetchHopMac } from '../../metrics/hop_mac_info';
import { describeSpao, fetchSpao } from '../../metrics/spao_info';
import { toJsonLine } from '../output';
import { describeError, observerClient } from '../observe/client';
import { addServerOptions, age, connectOrExit, serverAddress, type ServerFlags } from '../observe/server_flags';

const DEADLINE_MS = 10_000;

function percent(part: bigint, whole: bigint): string {
  return whole === 0n ? '-' : `${(Number((part * 10000n) / whole) / 100).toFixed(2)}%`;
}

/** Loss by where it happened, each counter in its own unit; what is not data loss apart. */
function renderLoss(loss: LossCounter[], grouped: (n: bigint) => string): string[] {
  const line = (c: LossCounter) => `  ${c.where.replaceAll('_', ' ')}: ${c.name.replaceAll('_', ' ')} ${grouped(c.count)} ${c.unit}`;
  const lost = loss.filter((c) => c.dataLoss);
  const kept = loss.filter((c) => !c.dataLoss);
  return [
    'Data loss (not in the store, nor in any stored meter):',
    ...lost.map(line),
    'Not data loss (delayed, folded into later reports, or missed by a live viewer only):',
    ...kept.map(line),
  ];
}

/** How each holder is named for people, and what its full events are. */
const HOLDERS: Record<string, { title: (nodes: number) => string; events?: string }> = {
  flow_table: { title: (n) => (n === 1 ? 'Flow table (metering)' : `Flow tables (metering, ${n} collectors)`), events: 'reported early' },
  recent_buffer: { title: () => 'Recent-flows buffer', events: 'overwritten' },
  store: { title: () => 'Store' },
};

/** Each flow holder: held/capacity, what happens when full, and how often it did. */
function renderHolders(holders: FlowHolder[], grouped: (n: bigint) => string): string[] {
  return [
    'Flows held (now/capacity; what happens when full):',
    ...holders.map((h) => {
      const known = HOLDERS[h.name];
      const title = known ? known.title(h.nodes) : h.name.replaceAll('_', ' ');
      if (h.name === 'flow_table' && h.nodes === 0) return `  ${title}: no connected collector has reported one`;
      if (h.capacity === 0n) return `  ${title}: ${grouped(h.held)}, no fixed maximum: ${h.atCapacity}`;
      const events = ` (${known?.events ?? 'full events'}: ${grouped(h.fullEvents)})`;
      return `  ${title}: ${grouped(h.held)}/${grouped(h.capacity)} (${percent(h.held, h.capacity)}); when full: ${h.atCapacity}${events}`;
    }),
  ];
}

/** Hubble's line: flows held and the most held; a server with a store has no fixed maximum. */
function currentMax(s: ServerStatusResponse, grouped: (n: bigint) => string): string {
  if (s.maxFlows === 0n) return `Current/Max Flows: ${grouped(s.numFlows)} stored, no fixed maximum`;
  return `Current/Max Flows: ${grouped(s.numFlows)}/${grouped(s.maxFlows)} (${percent(s.numFlows, s.maxFlows)})`;
}

export function renderStatus(s: ServerStatusResponse, address: string): string {
  const grouped = (n: bigint) => n.toLocaleString('en-US');
  const lines = [
    `Healthcheck (via ${address}): Ok`,
    `Version: ${s.version || 'unknown'}, up ${age(s.uptimeNs)}`,
    currentMax(s, grouped),
    `Flows seen: ${grouped(s.seenFlows)}`,
    `Flows/s: ${s.flowsRate.toFixed(2)}`,
  ];
  if (s.flowHolders.length > 0) lines.push(...renderHolders(s.flowHolders, grouped));
  if (s.numConnectedNodes !== undefined) {
    const total = s.numConnectedNodes + (s.numUnavailableNodes ?? 0);
    lines.push(`Connected Nodes: ${s.numConnectedNodes}/${total}`);
  }
  if (s.numUnavailableNodes) {
    lines.push(`Unavailable Nodes: ${s.numUnavailableNodes}`, ...s.unavailableNodes.map((n) => `  - ${n}`));
  }
  if (s.loss.length > 0) lines.push(...renderLoss(s.loss, grouped));
  else if (s.lostFlows.length > 0) {
    // An older server: its figures are in different units, so each stands alone.
    lines.push(`Lost (older server, units differ): ${s.lostFlows.map((l) => `${l.reason.replaceAll('_', ' ')} ${grouped(l.count)}`).join(', ')}`);
  }
  const mismatched = s.fingerprintMismatches.filter((m) => m.count > 0n);
  if (mismatched.length > 0) {
    lines.push(
      `Path fingerprint mismatches: ${grouped(mismatched.reduce((sum, m) => sum + m.count, 0n))} (flows whose sent fingerprint differs from the one their hop fields give)`,
      ...mismatched.map((m) => `  - ${m.nodeName}: ${grouped(m.count)}`),
    );
  }
  return lines.join('\n');
}

/** One line per address, read from its /metrics; false when one could not be read. */
async function metricsLines<T>(
  addresses: readonly string[],
  what: 'router' | 'agent',
  read: (address: string) => Promise<T>,
  render: (address: string, v: T) => string,
  write: (line: string) => void,
): Promise<boolean> {
  let ok = true;
  for (const address of addresses) {
    try {
      write(render(address, await read(address)));
    } catch (e) {
      ok = false;
      process.stderr.write(`cillion status: ${what} ${(e as Error).message}\n`);
    }
  }
  return ok;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function statusCommand(): Command {
  const cmd = new Command('status').description('Summary of the Observer API server (relay or node collector), of routers given with --router and agents given with --agent');
  addServerOptions(cmd).addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'));
  cmd.option('--router <host:port>', "a router's --metrics address: say how it computes hop-field MACs (kfunc or the table fallback, with the driver or reason); repeatable", collect, []);
  cmd.option('--agent <host:port>', "an agent's --metrics address: say whether its edge authenticates identities with the SPAO (the kernel cipher, or why not) and whether it holds every peer's key; repeatable", collect, []);
  cmd.action(async (opts: ServerFlags & { output: 'text' | 'json'; router: string[]; agent: string[] }) => {
    const address = serverAddress(opts);
    const client = observerClient(connectOrExit(cmd, opts));
    try {
      const s = await new Promise<ServerStatusResponse>((resolve, reject) =>
        client.serverStatus(ServerStatusRequest.fromPartial({}), new Metadata(), { deadline: Date.now() + DEADLINE_MS }, (err, res) =>
          err ? reject(err) : resolve(res),
        ),
      );
      process.stdout.write(`${opts.output === 'json' ? toJsonLine(ServerStatusResponse.toJSON(s)) : renderStatus(s, address)}\n`);
    } catch (e) {
      process.stderr.write(`cillion status: ${describeError(e, address)}\n`);
      process.exitCode = 1;
    } finally {
      client.close();
    }
    const json = opts.output === 'json';
    const write = (line: string): void => void process.stdout.write(`${line}\n`);
    const routersOk = await metricsLines(opts.router, 'router', (a) => fetchHopMac(a, DEADLINE_MS), (a, hopMac) => (json ? toJsonLine({ router: a, hopMac }) : `Router ${a}: ${describeHopMac(hopMac)}`), write);
    const agentsOk = await metricsLines(opts.agent, 'agent', (a) => fetchSpao(a, DEADLINE_MS), (a, spao) => (json ? toJsonLine({ agent: a, spao }) : `Agent ${a}: ${describeSpao(spao)}`), write);
    if (!routersOk || !agentsOk) process.exitCode = 1;
  });
  return cmd;
}
