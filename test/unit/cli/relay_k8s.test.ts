// `cillion relay --kubernetes` as a process against the recorded-protocol API server: the
// geofences it judges flows by come from the API and follow its changes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { credentials } from '@grpc/grpc-js';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { PLURALS } from '../../../resources/meta';
import { GeofenceVerdict, type Flow } from '../../../proto/gen/flow/flow';
import { EXAMPLE_TOPOLOGY, europeAndUs, exampleControlPlane, honestPath } from '../paths/fixture';
import { ObserverClient, type GetFlowsResponse } from '../../../proto/gen/observer/observer';
import { nsTimestamp } from '../../../observer/time';
import { FakeApiServer } from '../kube/fake_apiserver';
import { FakeCollector } from '../relay/exporter_client';
import { getFlows, makeFlow, readAll } from '../observer/helpers';

const ROOT = resolve(__dirname, '..', '..', '..');
const KINDS_BY_PLURAL = Object.fromEntries(Object.entries(PLURALS).map(([kind, plural]) => [plural, kind]));

const fence = (countries: string[]) => ({
  metadata: { name: 'eu-ch' },
  spec: { workloadSelector: { podSelector: { matchLabels: { app: 'analytics' } } }, allow: { countries }, mode: 'audit' },
});

const VIA_US = honestPath(europeAndUs(exampleControlPlane()).viaUs);

function analyticsFlow(i: number): Flow {
  return makeFlow(i, {
    nodeName: 'node-a',
    time: nsTimestamp(BigInt(Date.now()) * 1_000_000n),
    scionPath: VIA_US,
    source: { ID: 5, identity: 5, namespace: 'analytics', podName: `analytics-${i}`, labels: ['k8s:app=analytics', 'k8s:io.kubernetes.pod.namespace=analytics'], clusterName: 'c1', workloads: [] },
  });
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('cillion relay --kubernetes', function () {
  this.timeout(90_000);
  let api: FakeApiServer;
  let dir: string;

  before(async () => {
    api = new FakeApiServer(KINDS_BY_PLURAL);
    await api.start();
    dir = mkdtempSync(join(tmpdir(), 'cillion-relay-k8s-'));
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('judges flows by the Geofences in the API and follows their changes', async () => {
    api.apply('geofences', fence(['EU', 'CH']));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'relay', user: { token: 'relay' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'relay' } }],
      'current-context': 'fake',
    }));
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', 'relay', '--no-ui', '--listen', '127.0.0.1:0', '--metrics', '', '--data-dir', join(dir, 'store'), '--kubernetes', '--kubeconfig', kubeconfig, '--topology', EXAMPLE_TOPOLOGY], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      await until(() => / on 127\.0\.0\.1:\d+ /.test(log) || child.exitCode !== null, 'the relay to serve');
      const address = (/ on (127\.0\.0\.1:\d+) /.exec(log) ?? assert.fail(log))[1]!;
      assert.match(log, /paths: flows' hop fields are checked against the embedded control plane \(\d+ ASes\)/);
      await until(() => api.openWatches('geofences') > 0, 'a watch on geofences');
      const observer = new ObserverClient(address, credentials.createInsecure());
      const collector = new FakeCollector(address, 'node-a');
      const verdictOf = async (uuid: string): Promise<string | undefined> => {
        const got = await readAll(getFlows(observer, { number: 10n }));
        const f = got.flatMap((r: GetFlowsResponse) => (r.responseTypes?.$case === 'flow' ? [r.responseTypes.value] : [])).find((x) => x.uuid === uuid);
        return f?.geofence ? `${f.geofence.name}:${GeofenceVerdict[f.geofence.verdict]}:${f.geofence.offendingCountry}` : undefined;
      };

      const first = analyticsFlow(1);
      await collector.acked(collector.send([first]));
      await until(async () => (await verdictOf(first.uuid)) !== undefined, 'the first flow stored');
      assert.equal(await verdictOf(first.uuid), 'eu-ch:GEOFENCE_VIOLATION:US');

      // The fence is widened in the API: the next flow on the same path is compliant.
      api.apply('geofences', fence(['EU', 'CH', 'US']));
      await new Promise((r) => setTimeout(r, 500));
      const second = analyticsFlow(2);
      await collector.acked(collector.send([second]));
      await until(async () => (await verdictOf(second.uuid)) !== undefined, 'the second flow stored');
      assert.equal(await verdictOf(second.uuid), 'eu-ch:GEOFENCE_COMPLIANT:');
      await collector.close();
      observer.close();
      // It reads, and writes nothing.
      assert.deepEqual(api.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`), []);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, log);
    }
  });

  it('refuses two control planes or an unreadable topology before opening the store, and says when it has none', async () => {
    const run = (args: string[], until?: RegExp): Promise<{ code: number | null; log: string }> =>
      new Promise((done) => {
        const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', 'relay', '--no-ui', '--listen', '127.0.0.1:0', '--metrics', '', '--data-dir', join(dir, 'refused'), ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
        let log = '';
        child.stderr.on('data', (d: Buffer) => {
          log += d.toString();
          if (until?.test(log)) child.kill('SIGTERM');
        });
        child.once('exit', (code) => done({ code, log }));
      });
    const both = await run(['--topology', EXAMPLE_TOPOLOGY, '--daemon', '127.0.0.1:30255']);
    assert.equal(both.code, 1);
    assert.match(both.log, /give either --topology or --daemon, not both/);
    const missing = await run(['--topology', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.log, /--topology .*nope\.yaml/);
    assert.equal(existsSync(join(dir, 'refused')), false, 'no store was created');
    const none = await run([], /serving Observer/);
    assert.match(none.log, /no control plane \(--topology or --daemon\): no path can be checked, flows under a geofence get UNVERIFIED/);
  });
});
