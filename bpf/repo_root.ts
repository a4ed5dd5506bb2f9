// Where `make` (or the npm package's install step) puts the BPF objects and the addon, relative
// to the root: a checkout, or the installed package, which ships bpf/build.mk to rebuild them.
// The root is found upward from this file, from the sources or from their build in dist/;
// package.json is no marker, since tsc copies it into dist/ (resolveJsonModule).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function repoRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'bpf', 'build.mk'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no bpf/build.mk above ${__dirname}: neither a Cillion checkout nor an installed package`);
  }
}
