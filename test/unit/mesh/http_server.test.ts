// The catalogue server against clients that hold its connections: one that connects and sends
// nothing, one that sends its headers a byte at a time, and more connections than its limit.
// Each is cut off within the server's deadlines (plus the one-second check), and a client
// that asks properly is served meanwhile (or, once the limit is taken, as soon as the
// holders are cut off).
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { fetchCatalogue, serveCatalogue } from '../../../mesh/http';
import { FRANKFURT, frankfurtContent, signedBytes } from './helpers';

interface Held {
  socket: Socket;
  /** Resolves with the ms from connect to the server closing it. */
  closed: Promise<number>;
  isClosed: () => boolean;
}

function hold(port: number, send?: (s: Socket) => void): Held {
  const t0 = Date.now();
  const socket = connect(port, '127.0.0.1', () => send?.(socket));
  // Read whatever comes (a 408): a paused socket would never see the server's end.
  socket.resume();
  socket.on('error', () => undefined);
  let done = false;
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      done = true;
      resolve(Date.now() - t0);
    }),
  );
  return { socket, closed, isClosed: () => done };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('mesh/http: the catalogue server against clients that hold connections', function () {
  this.timeout(30000);
  const bytes = signedBytes(frankfurtContent(), FRANKFURT.privateKey);
  let server: Server;
  let url: string;
  let port: number;
  const held: Held[] = [];
  beforeEach(async () => {
    ({ server, url } = await serveCatalogue(() => ({ ok: true, value: bytes }), '127.0.0.1', 0));
    port = Number(new URL(url).port);
  });
  afterEach(async () => {
    for (const h of held.splice(0)) h.socket.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const served = async (): Promise<boolean> => {
    const r = await fetchCatalogue(url, 1 << 20, 2000);
    return r.ok && Buffer.from(r.value).equals(Buffer.from(bytes));
  };

  it('cuts off a client that sends nothing and one that sends its headers slowly, serving a proper client meanwhile', async () => {
    const silent = hold(port);
    const slow = hold(port, (s) => s.write('GET /v1/identity-catalogue HTTP/1.1\r\nHost: x\r\n'));
    held.push(silent, slow);
    // A header byte every 200 ms: the socket is never idle, only its headers are late.
    const drip = setInterval(() => slow.socket.writable && slow.socket.write('X'), 200);
    try {
      for (let i = 0; i < 3; i++) assert.equal(await served(), true, `fetch ${i} while the two hold their connections`);
      assert.equal(silent.isClosed() || slow.isClosed(), false, 'not cut off before the deadline');
      // headersTimeout 5 s, checked every second (Node's default check, every 30 s, let the slow one stay 30 s).
      const [silentMs, slowMs] = await within(Promise.all([silent.closed, slow.closed]), 9000, 'the two cut off');
      assert.ok(silentMs >= 4500 && slowMs >= 4500, `cut off at ${silentMs} and ${slowMs} ms, before the 5 s deadline`);
    } finally {
      clearInterval(drip);
    }
    assert.equal(await served(), true);
  });

  it('refuses connections over its limit at once, and serves again once the holders are cut off', async () => {
    const limit = server.maxConnections;
    assert.equal(limit, 256);
    for (let i = 0; i < limit; i++) held.push(hold(port));
    await until(
      () => new Promise<boolean>((resolve) => server.getConnections((_e, n) => resolve(n === limit))),
      5000,
      `${limit} connections held`,
    );
    const over = Array.from({ length: 16 }, () => hold(port));
    held.push(...over);
    const overMs = await within(Promise.all(over.map((h) => h.closed)), 2000, 'the connections over the limit refused');
    assert.ok(Math.max(...overMs) < 2000);
    assert.equal(held.slice(0, limit).filter((h) => h.isClosed()).length, 0, 'the held ones stay until their deadline');
    // A proper client is refused too while the limit is taken: the limit bounds the server, not who holds it.
    assert.equal(await served(), false);
    await within(Promise.all(held.slice(0, limit).map((h) => h.closed)), 9000, 'the held connections cut off');
    assert.equal(await served(), true);
  });
});
