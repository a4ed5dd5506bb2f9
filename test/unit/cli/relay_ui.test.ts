// `cillion relay --ui-listen` and `--no-ui`: the defaults, the log line with the bound
// address, and a process that serves the UI's API (and one that serves none).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { relayCommand, type RelayCommandOptions } from '../../../cli/commands/relay';
import { api } from '../relay/ui/ui_client';

const ROOT = resolve(__dirname, '../../..');
let dir: string;
let stores = 0;

/** `cillion relay ARGS` until it logs it serves; everything it logged by then. */
function relay(args: string[]): Promise<{ log: string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', 'relay', '--listen', '127.0.0.1:0', '--metrics', '', '--data-dir', join(dir, `store-${++stores}`), ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return new Promise((resolvePromise, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      if (/serving Observer and FlowExport on/.test(log) && (args.includes('--no-ui') || /web UI on /.test(log))) {
        resolvePromise({ log, stop: () => (child.kill('SIGTERM'), exited) });
      }
    });
    void exited.then((code) => reject(new Error(`relay exited ${code}:\n${log}`)));
  });
}

function opts(args: string[]): RelayCommandOptions {
  const cmd = relayCommand();
  cmd.parseOptions(args);
  return cmd.opts<RelayCommandOptions>();
}

describe('cli relay web UI flags', function () {
  this.timeout(60_000);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-relay-ui-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to the UI on 127.0.0.1:12000; --no-ui turns it off', () => {
    assert.deepEqual([opts([]).uiListen, opts([]).ui], ['127.0.0.1:12000', true]);
    assert.equal(opts(['--no-ui']).ui, false);
    assert.equal(opts(['--ui-listen', '127.0.0.1:8080']).uiListen, '127.0.0.1:8080');
  });

  it('serves the UI where --ui-listen says and logs its URL', async () => {
    const r = await relay(['--ui-listen', '127.0.0.1:0']);
    try {
      const m = /web UI on http:\/\/(127\.0\.0\.1:\d+)\//.exec(r.log);
      assert.ok(m, r.log);
      const who = await api({ address: m[1] }, 'whoami');
      assert.equal(who.status, 200);
      assert.equal((JSON.parse(who.text) as { tls: boolean }).tls, false);
    } finally {
      assert.equal(await r.stop(), 0);
    }
  });

  it('serves no UI with --no-ui', async () => {
    const r = await relay(['--no-ui']);
    try {
      assert.doesNotMatch(r.log, /web UI/);
    } finally {
      await r.stop();
    }
  });
});
