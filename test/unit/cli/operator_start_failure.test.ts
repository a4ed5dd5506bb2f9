// An operator whose start-up fails after it took the allocation gives it back: the file
// lock is released, so another operator (or this one restarted) allocates at once.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operatorCommand, startOperator, type OperatorOptions } from '../../../cli/commands/operator';
import { Lifecycle } from '../../../lifecycle/lifecycle';
import { AllocatorLock } from '../../../identity/lock';

const ROOT = join(__dirname, '..', '..', '..');

describe('cillion operator start-up failure', function () {
  this.timeout(30000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cilop-start-failure-'));
    cpSync(join(ROOT, 'examples', 'policies', 'zurich'), join(dir, 'res'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a bad mesh file after the allocation was taken: the lock is released and the error said', async () => {
    const state = join(dir, 'state');
    const mesh = join(dir, 'mesh.yaml');
    writeFileSync(mesh, 'clusterName: somewhere-else\n');
    const cmd = operatorCommand();
    cmd.parseOptions(['--resources', join(dir, 'res'), '--workloads', join(ROOT, 'examples', 'workloads', 'zurich.yaml'), '--state', state, '--mesh', mesh, '--refresh', '300']);
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
    const life = new Lifecycle();
    try {
      await assert.rejects(life.starting((l) => startOperator(cmd.opts<OperatorOptions>(), l)), (e: Error) => /mesh|cluster/i.test(e.message));
    } finally {
      process.stderr.write = write;
    }
    assert.ok(lines.some((l) => /identities: allocating for cluster id 1/.test(l)), `the allocation was taken first:\n${lines.join('')}`);
    assert.equal(existsSync(AllocatorLock.fileFor(join(state, 'identities.json'))), false, 'the allocator lock is released');
  });
});
