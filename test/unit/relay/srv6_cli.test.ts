// `cillion relay --srv6-catalogue`: a catalogue that does not load stops the relay before
// it opens anything, and the relay says at start what SRv6 paths are checked against.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXAMPLE_SRV6 } from '../paths/srv6_fixture';

const ROOT = resolve(__dirname, '..', '..', '..');

function run(dir: string, args: string[], until?: RegExp): Promise<{ code: number | null; log: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', 'relay', '--no-ui', '--listen', '127.0.0.1:0', '--metrics', '', '--data-dir', join(dir, 'store'), ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      if (until?.test(log)) child.kill('SIGTERM');
    });
    child.once('exit', (code) => done({ code, log }));
  });
}

describe('cillion relay --srv6-catalogue', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-pipeline-srv6-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a catalogue that does not load, naming the file and the field, before opening the store', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'nodes:\n  - name: pe-x\n    role: provider\n    locator: not-a-prefix\n');
    const r = await run(dir, ['--srv6-catalogue', bad]);
    assert.equal(r.code, 1);
    assert.match(r.log, /--srv6-catalogue .*bad\.yaml: .*BAD_CATALOGUE at nodes\[0\]/);
    assert.equal(existsSync(join(dir, 'store')), false, 'no store was created');
  });

  it('says what SRv6 segments are placed in, or that there is nothing', async () => {
    const withIt = await run(dir, ['--srv6-catalogue', EXAMPLE_SRV6], /serving Observer/);
    assert.match(withIt.log, /srv6: segments are placed and HMAC TLVs checked with .*srv6\.yaml \(8 nodes\)/);
    const without = await run(dir, [], /serving Observer/);
    assert.match(without.log, /srv6: no SID catalogue \(--srv6-catalogue\): SRv6 flows under a geofence get UNVERIFIED/);
  });
});
