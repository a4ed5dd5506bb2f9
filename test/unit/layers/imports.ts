// Walks the relative imports of .ts files (static, export-from, dynamic import() and require)
// and reports every one that breaks the layer table.
import { readdirSync, readFileSync } from 'node:fs';
import { join, normalize, posix, relative, sep } from 'node:path';
import * as ts from 'typescript';
import { layerOf, ROOT_LAYER } from './table';

export interface SourceFile {
  /** Repository-relative, with forward slashes: operator/programmer.ts */
  path: string;
  text: string;
}

export interface Violation {
  file: string;
  specifier: string;
  reason: string;
}

const SKIPPED = new Set(['node_modules', 'dist', 'build', '.git', '.stamps']);

/** Every .ts file of the repository's top-level folders (generated proto code included). */
export function repositoryFiles(root: string): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (SKIPPED.has(e.name)) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.ts') && dir !== root) out.push({ path: relative(root, p).split(sep).join('/'), text: readFileSync(p, 'utf8') });
    }
  };
  walk(root);
  return out;
}

/** The relative specifiers a file imports, in every form TypeScript recognises. */
export function relativeImports(text: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((s) => s === '.' || s === '..' || s.startsWith('./') || s.startsWith('../'));
}

const topFolder = (path: string): string | undefined => (path.includes('/') ? path.split('/')[0] : undefined);

export function layerViolations(files: readonly SourceFile[]): Violation[] {
  const out: Violation[] = [];
  for (const f of files) {
    const from = topFolder(f.path);
    if (from === undefined) continue;
    const fromLayer = layerOf(from);
    if (fromLayer === undefined) {
      out.push({ file: f.path, specifier: '', reason: `folder ${from}/ has no layer in test/unit/layers/table.ts` });
      continue;
    }
    for (const spec of relativeImports(f.text)) {
      const target = posix.normalize(posix.join(posix.dirname(f.path), spec));
      if (target.startsWith('../')) {
        out.push({ file: f.path, specifier: spec, reason: 'imports from outside the repository' });
        continue;
      }
      const to = topFolder(target);
      if (to === from) continue;
      const toLayer = to === undefined ? ROOT_LAYER : layerOf(to);
      if (toLayer === undefined) out.push({ file: f.path, specifier: spec, reason: `${to}/ has no layer` });
      else if (toLayer === fromLayer) out.push({ file: f.path, specifier: spec, reason: `${from}/ and ${to}/ share layer ${fromLayer}: neither imports the other` });
      else if (toLayer > fromLayer) out.push({ file: f.path, specifier: spec, reason: `${from}/ (layer ${fromLayer}) imports ${to}/ (layer ${toLayer}), a higher layer` });
    }
  }
  return out;
}

export const formatViolation = (v: Violation): string => `${v.file}: import '${v.specifier}': ${v.reason}`;

/** The repository root, from this file's place (test/unit/layers/). */
export const REPO_ROOT = normalize(join(__dirname, '..', '..', '..'));
