// Where `make` puts the BPF objects and the addon, relative to the repository root. The root is
// found upward from this file, from the sources or from their build in dist/; package.json is no
// marker, since tsc copies it into dist/ (resolveJsonModule).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function repoRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'bpf', 'build.mk'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no bpf/build.mk above ${__dirname}: not inside a Cillion checkout`);
  }
}
