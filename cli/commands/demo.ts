// `cillion demo` brings the two-cluster demo up on this machine (as root) and shows its
// flows live; `cillion demo down` removes everything a demo created, also after a crash.
import { Command, InvalidArgumentError, Option } from 'commander';
import { teardown } from '../demo/cleanup';
import { DEMO_PREFIX } from '../demo/plan';
import { DEFAULT_RELAY, DEFAULT_RUN_DIR, examplesDir, runDemo } from '../demo/run';

interface UpOptions {
  runDir: string;
  relay: string;
  seconds?: number;
  view: boolean;
  examples: string;
}

function seconds(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number of seconds');
  return n;
}

function needRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new InvalidArgumentError(`${what} needs root: it creates network namespaces and loads eBPF programs`);
}

const runDirOption = (): Option => new Option('--run-dir <dir>', 'where the demo keeps its state, generated files and logs').default(DEFAULT_RUN_DIR);

export function demoCommand(): Command {
  const cmd = new Command('demo').description('run the two-cluster demo on this machine: SCION WAN, clusters, agents, a relay per cluster, traffic and the live view');
  cmd
    .command('up', { isDefault: true })
    .description('bring the demo up and show its flows until Ctrl-C')
    .addOption(runDirOption())
    .addOption(new Option('--relay <host:port>', "the first cluster's relay (Observer, export and peering); the next cluster's listens on the next port").default(DEFAULT_RELAY))
    .addOption(new Option('--seconds <n>', 'stop by itself this long after it is up').env('CILLION_DEMO_SECONDS').argParser(seconds))
    .option('--no-view', 'do not show the live cillion observe view')
    .addOption(new Option('--examples <dir>', 'topology, policies and workloads').default(examplesDir()).hideHelp())
    .action(async (opts: UpOptions) => {
      try {
        needRoot('cillion demo');
        await runDemo({ examples: opts.examples, runDir: opts.runDir, prefix: DEMO_PREFIX, relay: opts.relay, seconds: opts.seconds, view: opts.view });
      } catch (e) {
        process.stderr.write(`cillion demo: ${(e as Error).message}\n`);
        process.exitCode = e instanceof InvalidArgumentError ? 2 : 1;
      }
    });
  cmd
    .command('down')
    .description('remove everything a demo created: processes, namespaces, pinned maps, the run directory')
    .addOption(runDirOption())
    .action(async (opts: { runDir: string }) => {
      try {
        needRoot('cillion demo down');
        const r = await teardown({ runDir: opts.runDir, prefix: DEMO_PREFIX, log: (l) => process.stderr.write(`demo down: ${l}\n`) });
        process.stderr.write(`demo down: done (${r.processes} processes, ${r.namespaces} namespaces)\n`);
      } catch (e) {
        process.stderr.write(`cillion demo down: ${(e as Error).message}\n`);
        process.exitCode = e instanceof InvalidArgumentError ? 2 : 1;
      }
    });
  return cmd;
}
