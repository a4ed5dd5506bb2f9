// The one `cillion` binary: client commands and the process entry points as subcommands.
import { Command } from 'commander';
import { version } from '../package.json';
import { agentCommand } from './commands/agent';
import { attestCommand } from './commands/attest';
import { certsCommand } from './commands/certs';
import { demoCommand } from './commands/demo';
import { listCommand } from './commands/list';
import { observeCommand } from './commands/observe';
import { operatorCommand } from './commands/operator';
import { pathsCommand } from './commands/paths';
import { relayCommand } from './commands/relay';
import { routerCommand } from './commands/router';
import { scionCommand } from './commands/scion';
import { statusCommand } from './commands/status';

const program = new Command('cillion')
  .description('Observability and path verification for a SCION-in-eBPF Kubernetes datapath')
  .version(version);

program.addCommand(agentCommand());
program.addCommand(attestCommand());
program.addCommand(certsCommand());
program.addCommand(demoCommand());
program.addCommand(listCommand());
program.addCommand(observeCommand());
program.addCommand(operatorCommand());
program.addCommand(pathsCommand());
program.addCommand(relayCommand());
program.addCommand(routerCommand());
program.addCommand(scionCommand());
program.addCommand(statusCommand());

// Subcommands built on their own inherit nothing, so settle usage errors everywhere alike:
// help after the error, and exit code 2 for a bad invocation (commander would use 1).
const applyAll = (cmd: Command): void => {
  cmd.showHelpAfterError().exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  cmd.commands.forEach(applyAll);
};
applyAll(program);

void program.parseAsync(process.argv);
