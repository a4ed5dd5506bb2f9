// The `cillion` command tree, built without parsing: main.ts runs it, and the CLI reference
// (docs/cli.md) is generated from it, so the docs and the binary cannot disagree.
import { Command } from 'commander';
import { version } from '../package.json';

// Each command's module is loaded only when it runs (or for help listing them all): every
// `cillion` process would otherwise load the code of all of them, seconds on a busy machine.
const commands: Record<string, () => Command> = {
  agent: () => (require('./commands/agent') as typeof import('./commands/agent')).agentCommand(),
  attest: () => (require('./commands/attest') as typeof import('./commands/attest')).attestCommand(),
  certs: () => (require('./commands/certs') as typeof import('./commands/certs')).certsCommand(),
  demo: () => (require('./commands/demo') as typeof import('./commands/demo')).demoCommand(),
  list: () => (require('./commands/list') as typeof import('./commands/list')).listCommand(),
  observe: () => (require('./commands/observe') as typeof import('./commands/observe')).observeCommand(),
  operator: () => (require('./commands/operator') as typeof import('./commands/operator')).operatorCommand(),
  paths: () => (require('./commands/paths') as typeof import('./commands/paths')).pathsCommand(),
  relay: () => (require('./commands/relay') as typeof import('./commands/relay')).relayCommand(),
  router: () => (require('./commands/router') as typeof import('./commands/router')).routerCommand(),
  scion: () => (require('./commands/scion') as typeof import('./commands/scion')).scionCommand(),
  'srv6-node': () => (require('./commands/srv6_node') as typeof import('./commands/srv6_node')).srv6NodeCommand(),
  status: () => (require('./commands/status') as typeof import('./commands/status')).statusCommand(),
};

/** The program with the invoked command only, or with every command when `invoked` names none. */
export function buildProgram(invoked?: string): Command {
  const program = new Command('cillion')
    .description('Observability and path verification for a SCION-in-eBPF Kubernetes datapath')
    .version(version);
  const wanted = invoked !== undefined && Object.hasOwn(commands, invoked) ? [commands[invoked]] : Object.values(commands);
  for (const make of wanted) program.addCommand(make());

  // Subcommands built on their own inherit nothing, so settle usage errors everywhere alike:
  // help after the error, and exit code 2 for a bad invocation (commander would use 1).
  const applyAll = (cmd: Command): void => {
    cmd.showHelpAfterError().exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
    cmd.commands.forEach(applyAll);
  };
  applyAll(program);
  return program;
}
