import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

function cillion(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const jsonLines = (out: string): any[] => out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

describe('cillion paths', function () {
  this.timeout(30000);
  const zurich = ['--resources', 'examples/policies/zurich'];

  it('lists the paths to Frankfurt with hops, countries and every fence verdict', () => {
    const r = cillion(['paths', '65-2:0:20', ...zurich, '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const paths = jsonLines(r.stdout);
    assert.ok(paths.length > 10);
    const first = paths[0];
    assert.deepEqual(
      first.hops.map((h: { isdAS: string }) => h.isdAS),
      ['64-2:0:20', '64-2:0:10', '65-2:0:10', '65-2:0:20'],
    );
    assert.deepEqual(first.hops.map((h: { country: string }) => h.country), ['CH', 'CH', 'DE', 'DE']);
    // dach-only-audit is the SRv6 example's fence (namespace archive); with no workload given every fence is judged.
    assert.deepEqual(first.fences.map((f: { name: string }) => f.name).sort(), ['dach-only-audit', 'eu-plus-ch', 'eu-plus-ch-audit']);
    const viaUS = paths.find((p: { hops: Array<{ country: string }> }) => p.hops.some((h) => h.country === 'US'));
    assert.ok(viaUS);
    assert.ok(viaUS.fences.every((f: { verdict: string }) => f.verdict === 'VIOLATION'));
    assert.match(viaUS.fences[0].reason, /US/);
  });

  it('filters by sequence and by a policy, and marks what is installed for a workload', () => {
    const seq = jsonLines(cillion(['paths', '65-2:0:20', ...zurich, '--sequence', '0* 66 0*', '-o', 'json']).stdout);
    assert.ok(seq.length > 0 && seq.every((p: { hops: Array<{ isdAS: string }> }) => p.hops.some((h) => h.isdAS.startsWith('66-'))));
    const analytics = jsonLines(cillion(['paths', '65-2:0:20', ...zurich, '--policy', 'analytics', '-o', 'json']).stdout);
    assert.equal(analytics.length, seq.length);
    const r = cillion(['paths', '65-2:0:20', ...zurich, '--from-pod', 'db/replication-0', '--workloads', 'examples/workloads/zurich.yaml', '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const installed = jsonLines(r.stdout).filter((p: { installedFor: string[] }) => p.installedFor.length > 0);
    assert.equal(installed.length, 2, 'replication is multipath over 2 paths');
    assert.ok(installed.every((p: { fences: Array<{ name: string; verdict: string }> }) => p.fences.length === 1 && p.fences[0].name === 'eu-plus-ch' && p.fences[0].verdict === 'COMPLIANT'));
  });

  it('prints a showpaths-style text view', () => {
    const r = cillion(['paths', '65-2:0:20', ...zurich, '--from-label', 'app=billing', '-n', 'shop']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Available paths to 65-2:0:20 from 64-2:0:20: \d+/);
    assert.match(r.stdout, /\[0\] \* Hops: \[64-2:0:20 1>4 64-2:0:10 1>1 65-2:0:10 5>1 65-2:0:20\]/);
    assert.match(r.stdout, /installed for shop\/\{app=billing\}/);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour when not a TTY');
  });

  it('refuses bad input with exit code 2 and a clear message', () => {
    const bad = cillion(['paths', 'nonsense', ...zurich]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /"nonsense" is not an ISD-AS/);
    const noPlane = cillion(['paths', '65-2:0:20']);
    assert.equal(noPlane.status, 2);
    assert.match(noPlane.stderr, /no source AS/);
    const badSeq = cillion(['paths', '65-2:0:20', ...zurich, '--sequence', '0* (']);
    assert.equal(badSeq.status, 2);
  });
});
