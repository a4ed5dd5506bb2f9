import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..', '..');

function cillion(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
}

interface Status {
  status: { conditions: Array<{ type: string; status: string; reason: string; message: string }>; paths?: unknown[] };
}

describe('cillion operator (embedded mode, status only)', function () {
  this.timeout(30000);
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cilopcli-'));
    cpSync(join(ROOT, 'examples', 'policies', 'zurich'), join(dir, 'res'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const status = (kind: string, name: string): Status =>
    parse(readFileSync(join(dir, 'res', '.status', kind, `${name}.yaml`), 'utf8')) as Status;
  const condition = (s: Status, type: string) => s.status.conditions.find((c) => c.type === type);

  it('writes Valid and Programmed conditions with the selected paths of every policy', () => {
    const r = cillion(['operator', '--resources', join(dir, 'res'), '--state', join(dir, 'state'), '--once']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /policy replication: Selected 2 path\(s\)/);
    for (const name of ['billing', 'video', 'replication', 'analytics']) {
      const s = status('wanpathpolicies', name);
      assert.equal(condition(s, 'Valid')?.status, 'True', name);
      assert.equal(condition(s, 'Programmed')?.status, 'True', name);
    }
    assert.equal(status('wanpathpolicies', 'video').status.paths?.length, 3);
    assert.match(condition(status('wanpathpolicies', 'replication'), 'Programmed')?.message ?? '', /forbidden by enforcing fences/);
  });

  it('says when enforcing fences forbid every path, and marks an invalid resource without stopping', () => {
    const fence = join(dir, 'res', 'analytics.yaml');
    writeFileSync(fence, readFileSync(fence, 'utf8').replace('mode: audit', 'mode: enforce'));
    writeFileSync(join(dir, 'res', 'broken.yaml'), 'apiVersion: cillion.io/v1alpha1\nkind: Geofence\nmetadata:\n  name: broken\nspec:\n  mode: sometimes\n');
    const r = cillion(['operator', '--resources', join(dir, 'res'), '--state', join(dir, 'state'), '--once']);
    assert.equal(r.status, 0, r.stderr);
    const analytics = condition(status('wanpathpolicies', 'analytics'), 'Programmed');
    assert.equal(analytics?.status, 'False');
    assert.equal(analytics?.reason, 'AllPathsForbidden');
    assert.match(analytics?.message ?? '', /eu-plus-ch-audit.*not sent over a forbidden path/);
    const broken = condition(status('geofences', 'broken'), 'Valid');
    assert.equal(broken?.status, 'False');
    assert.match(broken?.message ?? '', /mode/);
    assert.equal(condition(status('wanpathpolicies', 'billing'), 'Programmed')?.status, 'True', 'the rest is programmed');
  });

  it('refuses a directory without a ClusterAS', () => {
    rmSync(join(dir, 'res', 'cluster.yaml'));
    const r = cillion(['operator', '--resources', join(dir, 'res'), '--state', join(dir, 'state'), '--once']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no valid ClusterAS/);
  });
});
