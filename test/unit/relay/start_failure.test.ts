// A relay that cannot start all of itself starts none of itself: what started before the
// failing step is stopped, so the same relay can start again at once.
import assert from 'node:assert/strict';
import { credentials } from '@grpc/grpc-js';
import { createServer, type Server } from 'node:net';
import { startRelay } from '../../../relay/server';
import { PeerSet } from '../../../relay/peers/peer_set';

/** A loopback port held open by a plain TCP listener, as another process would. */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.address() as { port: number }).port, server };
}

const close = (s: Server): Promise<void> => new Promise((resolve) => s.close(() => resolve()));

describe('relay start-up failure', () => {
  it('a relay whose metrics port is taken fails to start and leaves its gRPC port and peers closed', async () => {
    const metrics = await holdPort();
    const grpc = await holdPort();
    await close(grpc.server);
    const peersClosed: PeerSet[] = [];
    const realClose = PeerSet.prototype.close;
    PeerSet.prototype.close = function (this: PeerSet) {
      peersClosed.push(this);
      realClose.call(this);
    };
    try {
      const listen = `127.0.0.1:${grpc.port}`;
      const peers = { targets: [{ name: 'other', address: '127.0.0.1:1' }], credentials: credentials.createInsecure(), timeoutMs: 1000, sharedStore: false };
      await assert.rejects(startRelay({ listen, metricsListen: `127.0.0.1:${metrics.port}`, shutdownGraceMs: 200, peers }), /EADDRINUSE/);
      assert.equal(peersClosed.length, 1, 'the peer channels were closed');
      // The gRPC port is free again: a whole relay starts on it.
      const again = await startRelay({ listen, shutdownGraceMs: 200 });
      assert.equal(again.address, listen);
      await again.close();
    } finally {
      PeerSet.prototype.close = realClose;
      await close(metrics.server);
    }
  });
});
