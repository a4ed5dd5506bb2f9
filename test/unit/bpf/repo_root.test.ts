import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../../bpf/repo_root';

const ROOT = resolve(__dirname, '..', '..', '..');

describe('bpf/repo_root', () => {
  it('finds the checkout from the sources', () => {
    assert.equal(repoRoot(), ROOT);
  });

  it('finds the same checkout from the compiled dist/, past the package.json tsc copies there', function () {
    const compiled = join(ROOT, 'dist', 'bpf', 'repo_root.js');
    if (!existsSync(compiled)) this.skip();
    assert.ok(existsSync(join(ROOT, 'dist', 'package.json')), 'tsc copies package.json into dist/');
    const found = execFileSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(compiled)}).repoRoot())`], { encoding: 'utf8' });
    assert.equal(found, ROOT);
  });
});
