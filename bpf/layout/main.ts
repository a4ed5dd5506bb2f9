// make's entry to the layout generator:
//   generate [--header H] [--out F]      writes the TypeScript layout of header H to F
//   check [--header H] [--generated F]   fails, naming each struct and field, when F drifted from H
import { renameSync, writeFileSync } from 'node:fs';
import { checkLayout, HEADER_PATH } from './check';
import { extractLayout } from './extract';
import { LayoutError } from './model';
import { GENERATED_PATH, renderLayout } from './render';

function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

function main(argv: string[]): number {
  const [command, ...args] = argv;
  const header = flag(args, '--header', HEADER_PATH);
  if (command === 'generate') {
    const out = flag(args, '--out', GENERATED_PATH);
    // Written whole and then renamed: tsc may be reading the old file meanwhile.
    writeFileSync(`${out}.tmp`, renderLayout(extractLayout({ header }), HEADER_PATH));
    renameSync(`${out}.tmp`, out);
    return 0;
  }
  if (command === 'check') {
    const generated = flag(args, '--generated', GENERATED_PATH);
    const drift = checkLayout({ header, generated });
    if (drift.length === 0) return 0;
    process.stderr.write(
      `ring record layout drift: ${generated} does not match ${header}:\n${drift.map((d) => `  ${d}\n`).join('')}` +
        `run \`make ${GENERATED_PATH}\` and commit the result (docs/record-layout.md)\n`,
    );
    return 1;
  }
  process.stderr.write('usage: main.ts generate|check [--header H] [--out F | --generated F]\n');
  return 2;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof LayoutError)) throw e;
  process.stderr.write(`abi layout: ${e.message}\n`);
  process.exitCode = 1;
}
