// `cillion relay` whose metrics port is taken fails to start and leaves nothing open: no
// listening gRPC server and no open store, so it can be started again at once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relayCommand, startRelayProcess, type RelayCommandOptions } from '../../../cli/commands/relay';
import { Lifecycle } from '../../../lifecycle/lifecycle';
import { openStore, type FlowStore } from '../../../relay/store/store';

async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as { port: number }).port, server };
}

const close = (s: Server): Promise<void> => new Promise((resolve) => s.close(() => resolve()));

describe('cillion relay start-up failure', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-relay-start-failure-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a taken metrics port stops the relay process: its store is closed and its gRPC port free', async () => {
    const metrics = await holdPort();
    const grpc = await holdPort();
    await close(grpc.server);
    const listen = `127.0.0.1:${grpc.port}`;
    const opts = relayCommandOpts(['--listen', listen, '--metrics', `127.0.0.1:${metrics.port}`, '--data-dir', join(dir, 'store')]);
    const opened: FlowStore[] = [];
    let closed = 0;
    const spy: typeof openStore = async (o) => {
      const store = await openStore(o);
      const realClose = store.close.bind(store);
      store.close = async () => {
        closed++;
        await realClose();
      };
      opened.push(store);
      return store;
    };
    try {
      const life = new Lifecycle();
      await assert.rejects(life.starting((l) => startRelayProcess(opts, l, { openStore: spy, signals: () => new Promise(() => undefined) })), /EADDRINUSE/);
      assert.equal(opened.length, 1, 'the store was opened');
      assert.equal(closed, 1, 'the store was closed');
      // The gRPC port is free again.
      const free = createServer();
      await new Promise<void>((resolve, reject) => free.once('error', reject).listen(grpc.port, '127.0.0.1', () => resolve()));
      await close(free);
    } finally {
      await close(metrics.server);
    }
  });
});

/** The options commander gives the relay's action for these arguments, defaults included. */
function relayCommandOpts(args: string[]): RelayCommandOptions {
  const cmd = relayCommand();
  cmd.parseOptions(args);
  return cmd.opts<RelayCommandOptions>();
}
