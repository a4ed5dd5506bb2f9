// `cillion relay`'s limit flags reach the relay: a process started with small limits
// refuses what its defaults would take.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FlowFilter } from '../../../proto/gen/flow/flow';
import { ObserverClient } from '../../../proto/gen/observer/observer';
import { getFlows, makeFlow, readAll } from '../observer/helpers';
import { FakeCollector } from '../relay/exporter_client';

const ROOT = resolve(__dirname, '..', '..', '..');

describe('cillion relay limit flags', function () {
  this.timeout(90_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-relay-limits-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--max-batch-flows and --max-filters bound what the relay process takes', async () => {
    const child = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', 'cli/main.ts', 'relay', '--no-ui', '--listen', '127.0.0.1:0', '--metrics', '', '--data-dir', join(dir, 'store'), '--max-batch-flows', '2', '--max-filters', '1'],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    try {
      const end = Date.now() + 60_000;
      while (!/ on 127\.0\.0\.1:\d+ /.test(log)) {
        if (child.exitCode !== null || Date.now() > end) assert.fail(`the relay did not start:\n${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const address = `127.0.0.1:${(/ on 127\.0\.0\.1:(\d+) /.exec(log) as RegExpExecArray)[1]}`;
      const collector = new FakeCollector(address, 'node-a');
      await collector.acked(collector.send([makeFlow(1), makeFlow(2)]));
      collector.send([makeFlow(3), makeFlow(4), makeFlow(5)]);
      await collector.ended;
      assert.equal(collector.error?.code, status.RESOURCE_EXHAUSTED);
      assert.match(collector.error?.details ?? '', /batch of 3 flows; at most 2 per batch/);
      await collector.close();
      const reader = new ObserverClient(address, credentials.createInsecure());
      try {
        const e = await readAll(getFlows(reader, { whitelist: [FlowFilter.fromPartial({ sourcePod: ['a'] }), FlowFilter.fromPartial({ sourcePod: ['b'] })] })).then(
          () => assert.fail('two filters were taken'),
          (err: ServiceError) => err,
        );
        assert.equal(e.code, status.INVALID_ARGUMENT);
        assert.match(e.details, /2 .*filters; at most 1/);
      } finally {
        reader.close();
      }
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
