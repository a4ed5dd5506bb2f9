// `cillion list nodes`: the nodes behind the Observer API, like `hubble list nodes`.
import { Metadata } from '@grpc/grpc-js';
import { Command, Option } from 'commander';
import Table from 'cli-table3';
import { GetNodesRequest, GetNodesResponse, Node } from '../../proto/gen/observer/observer';
import { NodeState, nodeStateToJSON } from '../../proto/gen/relay/relay';
import { colorsFor, toJsonLine, type Colors } from '../output';
import { describeError, observerClient } from '../observe/client';
import { addServerOptions, age, connectOrExit, serverAddress, type ServerFlags } from '../observe/server_flags';

const DEADLINE_MS = 10_000;

function state(n: Node, c: Colors): string {
  const text = { [NodeState.NODE_CONNECTED]: 'Connected', [NodeState.NODE_UNAVAILABLE]: 'Unavailable', [NodeState.NODE_GONE]: 'Gone', [NodeState.NODE_ERROR]: 'Error' }[n.state as number] ?? nodeStateToJSON(n.state);
  return n.state === NodeState.NODE_CONNECTED ? c.green(text) : c.red(text);
}

export function renderNodes(nodes: Node[], c: Colors): string {
  const table = new Table({
    head: ['NAME', 'STATUS', 'AGE', 'FLOWS/S', 'CURRENT/MAX-FLOWS'],
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 3 },
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '' },
  });
  for (const n of [...nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    const seconds = Number(n.uptimeNs) / 1e9;
    const rate = seconds > 0 ? (Number(n.seenFlows) / seconds).toFixed(2) : '-';
    const pct = n.maxFlows > 0n ? ` (${((Number(n.numFlows) / Number(n.maxFlows)) * 100).toFixed(2)}%)` : '';
    table.push([n.name, state(n, c), age(n.uptimeNs), rate, `${n.numFlows}/${n.maxFlows}${pct}`]);
  }
  return table.toString().split('\n').map((l) => l.trimEnd()).join('\n');
}

/** The nodes of these clusters (named "cluster/node" by a relay with --cluster); all without any. */
export function nodesOfClusters(nodes: Node[], clusters: string[]): Node[] {
  return clusters.length === 0 ? nodes : nodes.filter((n) => clusters.some((c) => n.name.startsWith(`${c}/`)));
}

function nodesCommand(): Command {
  const cmd = new Command('nodes').description('The nodes behind the Observer API and their state');
  addServerOptions(cmd)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(new Option('--cluster <name>', 'only the nodes of this cluster (cluster/node); repeatable').argParser((v: string, acc: string[] = []) => [...acc, v]));
  cmd.action(async (opts: ServerFlags & { output: 'table' | 'json'; cluster?: string[] }) => {
    const address = serverAddress(opts);
    const client = observerClient(connectOrExit(cmd, opts));
    try {
      const all = await new Promise<GetNodesResponse>((resolve, reject) =>
        client.getNodes(GetNodesRequest.fromPartial({}), new Metadata(), { deadline: Date.now() + DEADLINE_MS }, (err, r) => (err ? reject(err) : resolve(r))),
      );
      const res = { nodes: nodesOfClusters(all.nodes, opts.cluster ?? []) };
      const out = opts.output === 'json' ? toJsonLine(GetNodesResponse.toJSON(res)) : renderNodes(res.nodes, colorsFor(process.stdout));
      process.stdout.write(`${out}\n`);
    } catch (e) {
      process.stderr.write(`cillion list nodes: ${describeError(e, address)}\n`);
      process.exitCode = 1;
    } finally {
      client.close();
    }
  });
  return cmd;
}

export function listCommand(): Command {
  return new Command('list').description('List objects of the Observer API').addCommand(nodesCommand());
}
