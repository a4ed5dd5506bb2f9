import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { AllocatorLock } from '../../../identity/lock';

const ROOT = join(__dirname, '..', '..', '..');

function cillion(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
}

/** A long-running `cillion` process whose stderr is awaited for a pattern, with a deadline. */
function start(args: string[]): { child: ChildProcess; stderr: () => string; until: (re: RegExp) => Promise<void>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const waiters = new Set<() => void>();
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const until = (re: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${re} within 45 s:\n${err}`));
      }, 45000);
      const check = (): void => {
        if (!re.test(err)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  return { child, stderr: () => err, until, exited };
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

  it('marks a ClusterAS with a bad cluster id invalid in its status, and says so', () => {
    const file = join(dir, 'res', 'cluster.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('clusterId: 1', 'clusterId: 300'));
    const r = cillion(['operator', '--resources', join(dir, 'res'), '--state', join(dir, 'state'), '--once']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /ClusterAS zurich is invalid: spec.clusterId: must be between 1 and 255, not 300/);
    const valid = condition(status('clusterases', 'zurich'), 'Valid');
    assert.deepEqual([valid?.status, valid?.reason], ['False', 'Invalid']);
    assert.match(valid?.message ?? '', /spec.clusterId/);
  });

  it('waits while another process holds the allocation, then numbers every pod under its cluster id', async function () {
    // One process start, twice the others' allowance: a loaded machine takes seconds to start it.
    this.timeout(60000);
    const state = join(dir, 'state');
    const pods = join(ROOT, 'examples', 'workloads', 'zurich.yaml');
    // This test process holds the cluster's allocator lock, as a running operator would: the
    // operator process must wait and write nothing until it is released (the one cross-process
    // check of the lock, one process start).
    mkdirSync(state);
    const held = AllocatorLock.tryAcquire(AllocatorLock.fileFor(join(state, 'identities.json')));
    assert.ok(held instanceof AllocatorLock);
    const op = start(['operator', '--resources', join(dir, 'res'), '--workloads', pods, '--state', state, '--refresh', '300']);
    try {
      await op.until(new RegExp(`allocated by pid ${process.pid} .*waiting`));
      assert.equal(existsSync(join(state, 'identities.json')), false, 'nothing allocated while waiting');
      held.release();
      await op.until(/watching for changes/);
      assert.match(op.stderr(), /identities: allocating for cluster id 1/);
      const file = JSON.parse(readFileSync(join(state, 'identities.json'), 'utf8')) as { version: number; clusterId: number; identities: { id: number; labels: string[] }[] };
      assert.deepEqual([file.version, file.clusterId], [2, 1]);
      assert.ok(file.identities.length >= 2 && file.identities.every((i) => i.id >>> 16 === 1), JSON.stringify(file.identities));
      assert.ok(file.identities.some((i) => i.labels.includes('k8s:app=billing')), 'billing has an identity');
      // Now the operator holds it.
      assert.ok(!(AllocatorLock.tryAcquire(AllocatorLock.fileFor(join(state, 'identities.json'))) instanceof AllocatorLock));
    } finally {
      op.child.kill('SIGTERM');
      await op.exited;
    }
    assert.equal(existsSync(AllocatorLock.fileFor(join(state, 'identities.json'))), false, 'released on exit');
  });

  it('numbers a pod added to the workloads file on its refresh (the programmer\'s one timer allocates before it programs)', async function () {
    this.timeout(60000);
    const state = join(dir, 'state');
    const pods = join(dir, 'pods.yaml');
    cpSync(join(ROOT, 'examples', 'workloads', 'zurich.yaml'), pods);
    const op = start(['operator', '--resources', join(dir, 'res'), '--workloads', pods, '--state', state, '--refresh', '1']);
    try {
      await op.until(/watching for changes/);
      const labels = () => (JSON.parse(readFileSync(join(state, 'identities.json'), 'utf8')) as { identities: { labels: string[] }[] }).identities.flatMap((i) => i.labels);
      assert.ok(!labels().includes('k8s:app=late'));
      writeFileSync(pods, `${readFileSync(pods, 'utf8')}---\napiVersion: v1\nkind: Pod\nmetadata: { name: late-0, namespace: shop, labels: { app: late } }\nspec: { nodeName: zrh-node-1 }\nstatus: { podIP: 10.164.0.9 }\n`);
      const deadline = Date.now() + 20000;
      while (!labels().includes('k8s:app=late')) {
        assert.ok(Date.now() < deadline, `late-0 not numbered within 20 s:\n${op.stderr()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      op.child.kill('SIGTERM');
      await op.exited;
    }
  });

  it('refuses a directory without a ClusterAS', () => {
    rmSync(join(dir, 'res', 'cluster.yaml'));
    const r = cillion(['operator', '--resources', join(dir, 'res'), '--state', join(dir, 'state'), '--once']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no valid ClusterAS/);
  });
});
