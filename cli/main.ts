// The one `cillion` binary: client commands and the process entry points as subcommands.
import { Command } from 'commander';
import { version } from '../package.json';

const program = new Command('cillion')
  .description('Observability and path verification for a SCION-in-eBPF Kubernetes datapath')
  .version(version);

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
  status: () => (require('./commands/status') as typeof import('./commands/status')).statusCommand(),
};
const invoked = process.argv[2];
for (const make of Object.hasOwn(commands, invoked) ? [commands[invoked]] : Object.values(commands)) program.addCommand(make());

// Subcommands built on their own inherit nothing, so settle usage errors everywhere alike:
// help after the error, and exit code 2 for a bad invocation (commander would use 1).
const applyAll = (cmd: Command): void => {
  cmd.showHelpAfterError().exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  cmd.commands.forEach(applyAll);
};
applyAll(program);

void program.parseAsync(process.argv);
