// The container image (make image): `cillion --version` and `cillion scion decode` inside it.
// Not part of `make test`'s required set: it runs only with CILLION_IMAGE_TEST=1 (make
// image-test builds the image first), and skips, saying so, when no container engine is present.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { version } from '../../package.json';
import { samplePacket } from '../package/sample_packet';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'image.sh');
const IMAGE = process.env.CILLION_IMAGE ?? `cillion:${version}`;

function image(args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(SCRIPT, args, { encoding: 'utf8', input, timeout: 120_000 });
}

function inImage(args: string[], input?: string): string {
  const r = image(['run', IMAGE, ...args], input);
  assert.equal(r.status, 0, `cillion ${args.join(' ')} in ${IMAGE} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

describe(`container image ${IMAGE}`, function () {
  this.timeout(180_000);

  before(function () {
    if (process.env.CILLION_IMAGE_TEST !== '1') {
      console.log('      skipped: the image smoke test runs with CILLION_IMAGE_TEST=1 (make image-test)');
      this.skip();
    }
    const engine = image(['engine']);
    if (engine.status !== 0) {
      console.log(`      skipped: ${engine.stderr.trim()}`);
      this.skip();
    }
  });

  it('cillion --version', () => {
    assert.equal(inImage(['--version']).trim(), version);
  });

  it('cillion scion decode checks a real path\'s hop-field MACs', () => {
    const { hex, keys } = samplePacket();
    const p = JSON.parse(inImage(['scion', 'decode', '--hex', hex, '--keys', '/dev/stdin', '-o', 'json'], JSON.stringify(keys)).trim().split('\n')[0]);
    assert.equal(p.srcIA, '64-2:0:20');
    assert.equal(p.dstIA, '65-2:0:20');
    assert.deepEqual(p.path.hopFields.map((h: { macValid: boolean }) => h.macValid), keys.map(() => true));
  });
});
