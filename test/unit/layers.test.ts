// The import-layer order of docs/layers.md, enforced over every .ts file of the repository,
// and one meaning per type or class name.
import { strict as assert } from 'node:assert';
import { formatViolation, layerViolations, relativeImports, repositoryFiles, REPO_ROOT, type SourceFile } from './layers/imports';
import { sharedNames } from './layers/names';

describe('layers', () => {
  const files = repositoryFiles(REPO_ROOT);

  it('walks the whole tree', () => {
    const folders = new Set(files.map((f) => f.path.split('/')[0]));
    for (const f of ['scion', 'bpf', 'geofence', 'observer', 'operator', 'collector', 'relay', 'cli', 'test']) assert.ok(folders.has(f), `no .ts file found under ${f}/`);
    assert.ok(files.length > 500, `only ${files.length} files`);
  });

  it('no import breaks the layer table', () => {
    const bad = layerViolations(files).map(formatViolation);
    assert.deepEqual(bad, [], `imports against the layer order (docs/layers.md):\n${bad.join('\n')}`);
  });

  it('reads static, export-from, type-only, dynamic and require imports, not comments', () => {
    const text = [
      "import { a } from '../relay/a';",
      "export { b } from './b';",
      "import type { C } from '../collector/c';",
      "const d = await import('../operator/d');",
      "const e = require('../cli/e');",
      "// import { x } from '../relay/commented';",
      "import 'node:fs';",
    ].join('\n');
    assert.deepEqual(relativeImports(text), ['../relay/a', './b', '../collector/c', '../operator/d', '../cli/e']);
  });

  it('reports a synthetic violating import with its file and specifier', () => {
    const synthetic: SourceFile[] = [
      { path: 'operator/fake.ts', text: "import { startRelay } from '../relay/server';\nconst c = await import('../collector/collector');" },
      { path: 'scion/fake.ts', text: "const m = require('../bpf/maps');" },
      { path: 'geofence/fake.ts', text: "import type { Hub } from '../observer/hub';" },
      { path: 'cli/fake.ts', text: "import { startRelay } from '../relay/server';\nimport { version } from '../package.json';" },
      { path: 'newfolder/fake.ts', text: '' },
    ];
    assert.deepEqual(layerViolations(synthetic).map(formatViolation), [
      "operator/fake.ts: import '../relay/server': operator/ and relay/ share layer 6: neither imports the other",
      "operator/fake.ts: import '../collector/collector': operator/ and collector/ share layer 6: neither imports the other",
      "scion/fake.ts: import '../bpf/maps': scion/ (layer 1) imports bpf/ (layer 2), a higher layer",
      "geofence/fake.ts: import '../observer/hub': geofence/ and observer/ share layer 5: neither imports the other",
      "newfolder/fake.ts: import '': folder newfolder/ has no layer in test/unit/layers/table.ts",
    ]);
  });

  it('no two folders declare the same type or class name', () => {
    const shared = [...sharedNames(files)].map(([name, where]) => `${name}: ${where.join(', ')}`);
    assert.deepEqual(shared, [], `one name, two meanings; rename one of them:\n${shared.join('\n')}`);
  });

  it('reports a synthetic name declared in two folders, and only that', () => {
    const synthetic: SourceFile[] = [
      { path: 'cli/commands/a.ts', text: 'class UsageError extends Error {}\nclass Reader {}' },
      { path: 'cli/paths/b.ts', text: 'class UsageError extends Error {}\nclass Reader {}' },
      { path: 'geofence/verdict.ts', text: "export type Verdict = 'COMPLIANT' | 'VIOLATION';\nexport interface Hop { isdAs: string }" },
      { path: 'bpf/abi.ts', text: "export type Verdict = 'FORWARDED' | 'DROPPED';" },
      { path: 'geofence/hops.ts', text: 'export interface Hop { isdAs: string }' },
      { path: 'test/unit/x.ts', text: "export type Verdict = 'X';" },
      { path: 'proto/gen/flow/flow.ts', text: 'export enum Verdict { FORWARDED = 1 }' },
    ];
    assert.deepEqual([...sharedNames(synthetic)], [
      ['UsageError', ['cli/commands/a.ts', 'cli/paths/b.ts']],
      ['Verdict', ['bpf/abi.ts', 'geofence/verdict.ts']],
    ]);
  });
});
