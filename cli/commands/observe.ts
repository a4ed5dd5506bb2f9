// `cillion observe`: flows from a relay (or, with --node, this node's collector, or with
// --input-file, a file of earlier JSON output) with hubble's flags and outputs, plus SCION
// and SRv6 path and geofence filters.
import { Command, InvalidArgumentError, Option } from 'commander';
import { status as grpcStatus } from '@grpc/grpc-js';
import pc from 'picocolors';
import type { GetFlowsRequest } from '../../proto/gen/observer/observer';
import { colorsFor } from '../output';
import { describeError, observerClient } from '../observe/client';
import { FilterFlags, FlagError } from '../../observer/filters/flags';
import { FlowPrinter, OUTPUTS, type PrintOptions } from '../observe/format';
import { flowStream } from '../observe/flow_stream';
import { observeInputFile } from '../observe/input_file';
import { flowsRequest } from '../observe/request';
import { dropEnvTls, TlsFlagError, type Connection } from '../observe/client_tls';
import { addServerOptions, serverConnection, type ServerFlags } from '../observe/server_flags';
import { TIME_FORMATS } from '../observe/time';

interface ObserveOptions extends ServerFlags {
  inputFile?: string;
  follow?: boolean;
  last?: string;
  first?: string;
  all?: boolean;
  since?: string;
  until?: string;
  output: PrintOptions['output'];
  printNodeName?: boolean;
  color: 'auto' | 'always' | 'never';
  timeFormat: PrintOptions['timeFormat'];
}

// [flag, short, value name, help]; each goes through FilterFlags in command-line order.
const FILTERS: [string, string | null, string, string][] = [
  ['uuid', null, 'uuid', 'the flow with this UUID'],
  ['pod', null, '[ns/]pod', 'from or to pods with this name prefix ("ns/" for a whole namespace)'],
  ['from-pod', null, '[ns/]pod', 'from pods with this name prefix'],
  ['to-pod', null, '[ns/]pod', 'to pods with this name prefix'],
  ['namespace', 'n', 'ns', 'from or to this namespace'],
  ['from-namespace', null, 'ns', 'from this namespace'],
  ['to-namespace', null, 'ns', 'to this namespace'],
  ['label', 'l', 'selector', 'from or to endpoints selected by a label selector'],
  ['from-label', null, 'selector', 'from endpoints selected by a label selector'],
  ['to-label', null, 'selector', 'to endpoints selected by a label selector'],
  ['from-cluster', null, 'name', 'from endpoints of this cluster (remote ones named by its identity catalogue)'],
  ['to-cluster', null, 'name', 'to endpoints of this cluster'],
  ['ip', null, 'ip|cidr', 'from or to this address or range'],
  ['from-ip', null, 'ip|cidr', 'from this address or range'],
  ['to-ip', null, 'ip|cidr', 'to this address or range'],
  ['identity', null, 'id', 'from or to this security identity'],
  ['from-identity', null, 'id', 'from this security identity'],
  ['to-identity', null, 'id', 'to this security identity'],
  ['port', null, 'port', 'from or to this port'],
  ['from-port', null, 'port', 'from this port'],
  ['to-port', null, 'port', 'to this port'],
  ['protocol', null, 'name', 'L4 or L7 protocol (tcp, udp, icmp, ...)'],
  ['verdict', null, 'verdict', 'FORWARDED, DROPPED, ...'],
  ['type', 't', 'type[:sub-type]', 'event type (trace, drop, trace:to-endpoint, ...)'],
  ['node-name', null, 'glob', 'flows seen on matching nodes ([cluster/]name, * wildcards)'],
  ['cluster', null, 'name', 'flows seen on nodes of this cluster (a relay with --cluster names them cluster/node); repeatable'],
  ['traffic-direction', null, 'dir', 'ingress or egress'],
  ['tcp-flags', null, 'flags', 'TCP flows carrying all these flags (SYN,ACK)'],
  ['ip-version', null, '4|6', 'IP version'],
  ['src-ia', null, 'isd-as', 'SCION path starting in this AS ("1-0": any AS of ISD 1)'],
  ['dst-ia', null, 'isd-as', 'SCION path ending in this AS'],
  ['through-ia', null, 'isd-as', 'SCION path crossing this AS'],
  ['through-isd', null, 'isd', 'SCION path crossing this ISD'],
  ['through-country', null, 'cc', 'SCION path crossing an AS, or SRv6 path with a segment node, that declares this country (ISO 3166)'],
  ['path', null, 'fingerprint', 'SCION path whose fingerprint starts with this hex prefix'],
  ['through-sid', null, 'sid|prefix', 'SRv6 path with a segment equal to this SID or inside this locator prefix (fc00:0:1::/48)'],
  ['path-type', null, 'scion|srv6', 'WAN path of this kind'],
  ['geofence-verdict', null, 'verdict', 'geofence verdict: compliant, violation or unverified'],
  ['geofence', null, '[ns/]name', 'checked against this geofence'],
];

/** The command with its flags; `filters` receives the filter flags in order. */
function buildCommand(filters: FilterFlags): Command {
  const cmd = addServerOptions(new Command('observe'))
    .description('Observe flows (Hubble-compatible), with their SCION or SRv6 paths and geofence verdicts')
    .addOption(
      new Option('--input-file <file>', 'answer from flows `observe -o json` wrote to a file ("-" for stdin) instead of a server')
        .conflicts(['server', 'node', 'follow']),
    )
    .option('-f, --follow', 'keep printing new flows')
    .option('--last <n>', 'the last N flows')
    .option('--first <n>', 'the first N flows')
    .option('--all', 'every stored flow')
    .option('--since <time>', 'flows since RFC 3339 time or duration ago (5m, 1h30m)')
    .option('--until <time>', 'flows until RFC 3339 time or duration ago')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUTS).default('compact'))
    .option('--print-node-name', 'print the node each flow was seen on')
    .addOption(new Option('--color <when>', 'colour the output').choices(['auto', 'always', 'never']).default('auto'))
    .addOption(new Option('--time-format <layout>', 'timestamp layout').choices(TIME_FORMATS).default('StampMilli'))
    .option('--not', 'send the next filter flag to the deny list');
  cmd.on('option:not', () => {
    try {
      filters.not();
    } catch (e) {
      cmd.error(`error: ${(e as Error).message}`);
    }
  });
  for (const [name, short, value, help] of FILTERS) {
    const flags = `${short ? `-${short}, ` : ''}--${name} <${value}>`;
    cmd.option(flags, help, (v: string) => {
      try {
        filters.set(name, v);
      } catch (e) {
        if (e instanceof FlagError) throw new InvalidArgumentError(e.message);
        throw e;
      }
      return v;
    });
  }
  return cmd;
}

export interface ObserveInvocation {
  address: string;
  connection: Connection;
  /** Answer from this file of JSON flows ("-": stdin) rather than from `address`. */
  inputFile?: string;
  request: GetFlowsRequest;
  print: Omit<PrintOptions, 'colors'> & { color: ObserveOptions['color'] };
}

function invocation(cmd: Command, opts: ObserveOptions, filters: FilterFlags, now: Date): ObserveInvocation {
  // The node's socket and a file take no TLS: settings from the environment are for the relay.
  if (opts.node !== undefined || opts.inputFile !== undefined) dropEnvTls(cmd, opts);
  const connection = serverConnection(opts);
  return {
    address: connection.address,
    connection,
    inputFile: opts.inputFile,
    request: flowsRequest(opts, filters.result(), now),
    print: { output: opts.output, printNodeName: opts.printNodeName === true, timeFormat: opts.timeFormat, color: opts.color },
  };
}

/** Parses `observe` arguments (without the command name) the way the command does. */
export function parseObserveArgs(args: string[], now = new Date()): ObserveInvocation {
  const filters = new FilterFlags();
  const cmd = buildCommand(filters).exitOverride();
  cmd.configureOutput({ writeErr: () => undefined });
  cmd.parse(args, { from: 'user' });
  return invocation(cmd, cmd.opts<ObserveOptions>(), filters, now);
}

function stdoutPrinter(inv: ObserveInvocation): FlowPrinter {
  const colors =
    inv.print.color === 'auto' ? colorsFor(process.stdout) : pc.createColors(inv.print.color === 'always');
  return new FlowPrinter({ ...inv.print, colors }, (line) => process.stdout.write(`${line}\n`));
}

async function fromFile(inv: ObserveInvocation, path: string): Promise<number> {
  const printer = stdoutPrinter(inv);
  try {
    return await observeInputFile(path, inv.request, (r) => printer.print(r), (line) => process.stderr.write(`cillion observe: ${line}\n`));
  } finally {
    printer.end();
  }
}

async function stream(inv: ObserveInvocation): Promise<number> {
  const printer = stdoutPrinter(inv);
  const client = observerClient(inv.connection);
  const call = flowStream(client, inv.request);
  const stop = () => call.cancel();
  process.once('SIGINT', stop);
  try {
    for await (const r of call.responses) printer.print(r);
    return 0;
  } catch (e) {
    if ((e as { code?: number }).code === grpcStatus.CANCELLED) return 0;
    process.stderr.write(`cillion observe: ${describeError(e, inv.address)}\n`);
    return 1;
  } finally {
    printer.end();
    process.off('SIGINT', stop);
    client.close();
  }
}

export function observeCommand(): Command {
  const filters = new FilterFlags();
  const cmd: Command = buildCommand(filters);
  cmd.action(async (opts: ObserveOptions) => {
    let inv: ObserveInvocation;
    try {
      inv = invocation(cmd, opts, filters, new Date());
    } catch (e) {
      if (!(e instanceof FlagError || e instanceof TlsFlagError)) throw e;
      cmd.error(`error: ${e.message}`);
    }
    process.exitCode = inv.inputFile === undefined ? await stream(inv) : await fromFile(inv, inv.inputFile);
  });
  return cmd;
}
