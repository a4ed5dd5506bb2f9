// The npm package as a user gets it: `npm pack` in this checkout, `npm install -g` into a
// temporary prefix, and the installed `cillion` run from a directory outside the clone,
// so that nothing it finds can come from the checkout. The datapath part loads the installed
// BPF objects through the installed addon and runs one BPF_PROG_TEST_RUN (root only).
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { version } from '../../package.json';
import { requireDatapath } from '../datapath/harness/require';
import { samplePacket } from './sample_packet';

const ROOT = join(__dirname, '..', '..');
// npm is run by the test, not by a make job: our make's jobserver is not its to use.
const { MAKEFLAGS: _mf, MFLAGS: _mfl, MAKELEVEL: _ml, ...ENV } = process.env;

function run(cmd: string, args: string[], cwd: string, timeout = 240_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...ENV, NO_COLOR: '1' } });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.error, undefined, `${what}: ${r.error?.message}`);
  assert.equal(r.status, 0, `${what} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

const seconds = (since: bigint): string => `${(Number(process.hrtime.bigint() - since) / 1e9).toFixed(1)} s`;

describe('npm package: pack, install into a prefix, run outside the clone', function () {
  this.timeout(300_000);
  let work: string;
  let outside: string;
  let installed: string;
  let cillion: string;

  before(function () {
    work = realpathSync(mkdtempSync(join(tmpdir(), 'cillion-pack-')));
    outside = join(work, 'elsewhere');
    ok(run('mkdir', ['-p', outside], work), 'mkdir');
    let t = process.hrtime.bigint();
    const packed = JSON.parse(ok(run('npm', ['pack', '--json', '--pack-destination', work, '--loglevel=error'], ROOT), 'npm pack')) as
      { filename: string; size: number; entryCount: number }[];
    const { filename, size, entryCount } = packed[0];
    console.log(`      npm pack: ${filename}, ${(size / 1e6).toFixed(2)} MB, ${entryCount} files, ${seconds(t)}`);
    t = process.hrtime.bigint();
    const prefix = join(work, 'prefix');
    ok(run('npm', ['install', '-g', '--prefix', prefix, join(work, filename), '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], outside), 'npm install -g');
    console.log(`      npm install -g: ${seconds(t)}`);
    installed = join(prefix, 'lib', 'node_modules', 'cillion');
    cillion = join(prefix, 'bin', 'cillion');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('ships no tests, benchmarks or source maps, and the datapath built for this machine', function () {
    const listed = ok(run('find', ['.', '-path', './node_modules', '-prune', '-o', '-type', 'f', '-print'], installed), 'find').split('\n');
    assert.ok(!listed.some((f) => f.startsWith('./dist/test/') || f.startsWith('./dist/bench/') || f.endsWith('.map')));
    for (const f of ['./bpf/build/edge.bpf.o', './bpf/build/router.bpf.o', './bpf/build/edge_kfunc.bpf.o', './bpf/build/router_kfunc.bpf.o',
      './bpf/addon/build/Release/cillion_bpf.node', './examples/topology.yaml']) {
      assert.ok(listed.includes(f), `${f} is in the package`);
    }
    assert.equal(ok(run('cat', ['bpf/build/arch'], installed), 'arch').trim(), ok(run('uname', ['-m'], installed), 'uname').trim());
  });

  it('cillion --version', () => {
    assert.equal(ok(run(cillion, ['--version'], outside), 'cillion --version').trim(), version);
  });

  it('cillion scion decode checks a real path\'s hop-field MACs', () => {
    const { hex, keys } = samplePacket();
    const keyFile = join(outside, 'keys.json');
    writeFileSync(keyFile, JSON.stringify(keys));
    const out = ok(run(cillion, ['scion', 'decode', '--hex', hex, '--keys', keyFile, '-o', 'json'], outside), 'scion decode');
    const p = JSON.parse(out.trim().split('\n')[0]);
    assert.equal(p.srcIA, '64-2:0:20');
    assert.equal(p.dstIA, '65-2:0:20');
    assert.deepEqual(p.path.hopFields.map((h: { macValid: boolean }) => h.macValid), keys.map(() => true));
  });

  describe('the datapath through the installed addon', function () {
    requireDatapath(this);
    const instance = `packtest${process.pid}`;

    it('loads the installed edge object and runs one BPF_PROG_TEST_RUN', () => {
      // The installed package's own loader, objects and addon, run from outside the clone.
      const script = `
        const { EdgeDatapath, PIN_BASE, objectFile } = require(${JSON.stringify(join(installed, 'dist', 'bpf', 'datapath.js'))});
        const { rmSync } = require('node:fs');
        const dp = EdgeDatapath.load({ instance: ${JSON.stringify(instance)} });
        try {
          dp.endpoints.set('10.164.0.5', { identity: 300, ifindex: 1 });
          const header = Buffer.alloc(36 + 4 + 8 + 24);
          header[5] = header.length / 4;
          header[8] = 1;
          header.writeUInt32BE((1 << 24) | (2 << 12), 36);
          dp.paths.set(7, { ifindex: 99, mtu: 1400, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', srcIp: '10.200.0.1',
            dstIp: '10.200.0.2', srcPort: 50001, dstPort: 50004, egressIfid: 1, header });
          dp.egressPolicy.set({ identity: 300, prefix: '10.165.0.0/16' }, [7]);
          const f = Buffer.alloc(14 + 20 + 8 + 32);
          f.writeUInt16BE(0x0800, 12); f[14] = 0x45; f.writeUInt16BE(60, 16); f[22] = 64; f[23] = 17;
          Buffer.from([10, 164, 0, 5]).copy(f, 26); Buffer.from([10, 165, 0, 7]).copy(f, 30);
          f.writeUInt16BE(1000, 34); f.writeUInt16BE(7000, 36); f.writeUInt16BE(40, 38);
          const r = dp.obj.program('edge_egress').testRun(f);
          console.log(JSON.stringify({ object: objectFile('edge'), retval: r.retval, encap: String(dp.counter('ENCAP')) }));
        } finally {
          dp.close();
          rmSync(require('node:path').join(PIN_BASE, ${JSON.stringify(instance)}), { recursive: true, force: true });
        }`;
      const out = JSON.parse(ok(run(process.execPath, ['-e', script], outside), 'datapath smoke').trim());
      assert.equal(out.object, join(installed, 'bpf', 'build', 'edge.bpf.o'));
      assert.equal(out.retval, 7, 'TC_ACT_REDIRECT to the path device');
      assert.equal(out.encap, '1');
    });
  });
});
