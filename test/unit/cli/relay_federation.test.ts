// Two `cillion relay` processes, one per cluster, each with its own embedded store and the
// other as its peer (--cluster, --name, --peer): `cillion observe --cluster` through either
// shows the cluster asked for; `cillion observe` the flows of both, stored and served by
// two processes.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeFlow } from '../observer/helpers';
import { FakeCollector } from '../relay/exporter_client';
import { freePort } from '../relay/peers/set';

const ROOT = resolve(__dirname, '..', '..', '..');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], { cwd: ROOT }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function relay(args: string[]): Promise<{ child: ChildProcess; exited: Promise<unknown>; log: () => string }> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', 'relay', '--no-ui', '--metrics', '', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise((done) => child.once('exit', done));
  const end = Date.now() + 60_000;
  while (!/serving Observer and FlowExport on/.test(log)) {
    if (child.exitCode !== null || Date.now() > end) assert.fail(`the relay did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, exited, log: () => log };
}

describe('cillion relay --cluster --peer: two clusters, two processes', function () {
  this.timeout(120_000);
  let dir: string;
  const relays: Awaited<ReturnType<typeof relay>>[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-federation-'));
  });

  after(async () => {
    for (const r of relays) {
      r.child.kill('SIGTERM');
      await r.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows each cluster through either relay', async () => {
    const zh = `127.0.0.1:${await freePort()}`;
    const fr = `127.0.0.1:${await freePort()}`;
    const common = ['--merge-window', '50', '--peer-timeout', '1500'];
    const [z, f] = await Promise.all([
      relay(['--listen', zh, '--data-dir', join(dir, 'zurich'), '--name', 'zurich-relay', '--cluster', 'zurich', '--peer', `frankfurt-relay=${fr}`, ...common]),
      relay(['--listen', fr, '--data-dir', join(dir, 'frankfurt'), '--name', 'frankfurt-relay', '--cluster', 'frankfurt', '--peer', `zurich-relay=${zh}`, ...common]),
    ]);
    relays.push(z, f);
    assert.match(z.log(), /peers: frankfurt-relay \(127\.0\.0\.1:\d+\); own stores/);
    const zc = new FakeCollector(zh, 'zh-1', 'zs', undefined, 'zurich');
    const fc = new FakeCollector(fr, 'fr-1', 'fs', undefined, 'frankfurt');
    await zc.acked(zc.send([makeFlow(1)]));
    await fc.acked(fc.send([makeFlow(2)]));
    await zc.close();
    await fc.close();
    const nodesOf = (stdout: string) => stdout.trim().split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { node_name: string }).node_name);
    for (const server of [zh, fr]) {
      const all = await cli(['observe', '--server', server, '-o', 'json', '--last', '10']);
      assert.equal(all.code, 0, all.stderr);
      assert.deepEqual(nodesOf(all.stdout), ['zurich/zh-1', 'frankfurt/fr-1']);
      const one = await cli(['observe', '--server', server, '-o', 'json', '--last', '10', '--cluster', 'frankfurt']);
      assert.deepEqual(nodesOf(one.stdout), ['frankfurt/fr-1']);
    }
    const nodes = await cli(['list', 'nodes', '--server', zh, '-o', 'json', '--cluster', 'frankfurt']);
    assert.deepEqual((JSON.parse(nodes.stdout) as { nodes: { name: string }[] }).nodes.map((n) => n.name), ['frankfurt/fr-1']);
  });
});
