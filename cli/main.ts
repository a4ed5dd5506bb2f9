// The one `cillion` binary: client commands and the process entry points as subcommands.
import { buildProgram } from './program';

void buildProgram(process.argv[2]).parseAsync(process.argv);
