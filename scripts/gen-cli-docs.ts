// Writes docs/cli.md from the `cillion` command tree: npx tsx scripts/gen-cli-docs.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram } from '../cli/program';
import { renderCliReference } from '../cli/reference';

const file = join(__dirname, '..', 'docs', 'cli.md');
writeFileSync(file, renderCliReference(buildProgram()));
process.stdout.write(`wrote ${file}\n`);
