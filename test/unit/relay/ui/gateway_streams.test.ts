// GetFlows through the web UI shares the relay's flow stream slots and stall guard with
// gRPC: a follow that the browser leaves half-way gives its slot back while a gRPC follower
// goes on; past the slots a new stream gets 429 RESOURCE_EXHAUSTED; a browser that stops
// reading is ended by the stall guard and its connection cut. Beside them, the HTTP side's
// own bounds: connections (429) and the header timeout (408).
import assert from 'node:assert/strict';
import { credentials, type ClientReadableStream } from '@grpc/grpc-js';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { ObserverClient, type GetFlowsResponse } from '../../../../proto/gen/observer/observer';
import { startRelay, type Relay } from '../../../../relay/server';
import { getFlows, makeFlow } from '../../observer/helpers';
import { FakeCollector } from '../exporter_client';
import { API, api, open, readLines, type UiTarget } from './ui_client';
import { until } from '../../../until';

function flowsIn(lines: Record<string, unknown>[]): number {
  return lines.filter((l) => l.flow !== undefined).length;
}

/** Flows of about 10 KB each as JSON, so a few hundred fill a socket's buffers. */
function fatFlow(i: number): ReturnType<typeof makeFlow> {
  const labels = Array.from({ length: 10 }, (_, k) => `k8s:pad${k}=${'x'.repeat(900)}`);
  return makeFlow(i, { nodeName: 'node-a', source: { namespace: 'shop', podName: `pod-${i}`, labels, clusterName: 'c1', workloads: [] } as never });
}

describe('relay/ui gateway streams and limits', function () {
  this.timeout(60_000);
  let relay: Relay;
  let ui: UiTarget;
  let collector: FakeCollector;
  let next = 0;

  /** Sends `n` flows through the collector and releases them to followers. */
  async function send(n: number, make = (i: number) => makeFlow(i, { nodeName: 'node-a' })): Promise<void> {
    const flows = Array.from({ length: n }, () => make(next++));
    for (let i = 0; i < flows.length; i += 1000) await collector.acked(collector.send(flows.slice(i, i + 1000)));
    relay.flushLive();
  }

  before(async () => {
    relay = await startRelay({
      listen: '127.0.0.1:0',
      mergeWindowMs: 20,
      buffer: 65_535,
      limits: { maxFlowStreams: 2, streamStallMs: 600 },
      ui: { listen: '127.0.0.1:0', staticDir: '/nonexistent', limits: { maxConnections: 6, headersTimeoutMs: 300, endGraceMs: 300 } },
    });
    ui = { address: relay.uiAddress as string };
    collector = new FakeCollector(relay.address, 'node-a');
  });
  after(async () => {
    await collector?.close();
    await relay?.close();
  });

  /** A UI follow stream: the response and every line it brought so far. */
  async function uiFollow(): Promise<{ res: IncomingMessage; got: Record<string, unknown>[]; done: Promise<'stopped' | 'ended'> }> {
    const res = await open(ui, 'POST', '/api/v1/observer.Observer/GetFlows', JSON.stringify({ follow: true }), API);
    assert.equal(res.statusCode, 200);
    const got: Record<string, unknown>[] = [];
    res.on('error', () => undefined);
    const done = readLines(res, (l) => void got.push(l));
    return { res, got, done };
  }

  it('follows live flows; a browser leaving half-way gives its slot back while a gRPC follower goes on', async () => {
    const client = new ObserverClient(relay.address, credentials.createInsecure());
    const grpcGot: GetFlowsResponse[] = [];
    const grpc: ClientReadableStream<GetFlowsResponse> = getFlows(client, { follow: true });
    grpc.on('data', (r: GetFlowsResponse) => grpcGot.push(r));
    grpc.on('error', () => undefined);
    let browser: Awaited<ReturnType<typeof uiFollow>> | undefined;
    try {
      const b = await uiFollow();
      browser = b;
      await send(20);
      await until('both followers to see 20 flows', () => flowsIn(b.got) >= 20 && grpcGot.filter((r) => r.responseTypes?.$case === 'flow').length >= 20, 10_000);
      // A node's status event comes as a line of its own (the collector connected with the first batch).
      assert.ok(b.got.some((l) => (l.nodeStatus as { stateChange?: string } | undefined)?.stateChange === 'NODE_CONNECTED'));

      // Both slots are taken: a third stream is refused before it starts.
      const third = await api(ui, 'observer.Observer/GetFlows', { number: '1' });
      assert.equal(third.status, 429);
      const err = JSON.parse(third.text) as { code: number; name: string; message: string };
      assert.deepEqual([err.code, err.name], [8, 'RESOURCE_EXHAUSTED']);
      assert.match(err.message, /2 flow streams .* are open/);

      b.res.destroy();
      await until('the browser\'s slot to be given back', async () => (await api(ui, 'observer.Observer/GetFlows', { number: '1' })).status === 200, 5000);
      await send(20);
      await until('the gRPC follower to go on', () => grpcGot.filter((r) => r.responseTypes?.$case === 'flow').length >= 40, 10_000);
    } finally {
      browser?.res.destroy();
      grpc.cancel();
      client.close();
    }
    await until('the gRPC slot back', async () => (await api(ui, 'observer.Observer/GetFlows', { number: '1' })).status === 200, 5000);
  });

  it('ends a follow with a status line when it is asked for a bounded range', async () => {
    const until = new Date(Date.now() - 60_000).toISOString();
    const r = await api(ui, 'observer.Observer/GetFlows', { follow: true, until });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text.trim().split('\n').pop() as string), { status: { code: 0, name: 'OK', message: '' } });
  });

  it('ends the stream of a browser that stops reading (stall guard) and gives its slot back', async () => {
    const stalled = await open(ui, 'POST', '/api/v1/observer.Observer/GetFlows', JSON.stringify({ follow: true }), API);
    assert.equal(stalled.statusCode, 200);
    stalled.pause();
    let cut = false;
    stalled.on('error', () => undefined);
    stalled.on('close', () => (cut = true));
    const reader = await uiFollow();
    // Enough to fill the stalled connection's socket buffers many times over.
    const stalledOnce = async () => /cillion_limit_breaches_total\{kind="stalled"\} [1-9]/.test(await relay.metrics.text());
    for (let round = 0; round < 20 && !(await stalledOnce()); round++) {
      await send(400, fatFlow);
      await new Promise((r) => setTimeout(r, 200));
    }
    await until(`the stall guard to end the stream (reader has ${flowsIn(reader.got)} flows)`, stalledOnce, 10_000);
    // The reading browser was not held up by the stalled one.
    await until('the reading browser to have its flows', () => flowsIn(reader.got) >= 400, 10_000);
    const second = await uiFollow();
    assert.equal(second.res.statusCode, 200, 'the stalled stream\'s slot is free again');
    reader.res.destroy();
    second.res.destroy();
    // Read again, the stalled stream has ended: cut after its grace, or (if it all fit) ending in the stall's status line.
    let tail = '';
    stalled.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-4096)));
    stalled.resume();
    await until('the stalled response to end', () => cut, 10_000);
    if (stalled.complete) assert.match(tail, /"status":\{"code":8,"name":"RESOURCE_EXHAUSTED","message":"the client read nothing for 600 ms/);
  });

  it('caps open connections: one beyond the cap gets 429 and is closed', async () => {
    await until('free slots', async () => (await api(ui, 'observer.Observer/GetFlows', { number: '1' })).status === 200, 5000);
    const held: Socket[] = [];
    const request = (s: Socket): Promise<string> =>
      new Promise((resolve) => {
        let text = '';
        const onData = (d: Buffer) => {
          text += d.toString();
          if (/\r\n\r\n[\s\S]*\n$/.test(text)) {
            s.off('data', onData);
            resolve(text);
          }
        };
        s.on('data', onData);
        s.write('GET /api/v1/whoami HTTP/1.1\r\nhost: x\r\nx-cillion-ui: 1\r\n\r\n');
      });
    const [host, port] = ui.address.split(':');
    const dial = (): Promise<Socket> => new Promise((resolve, reject) => {
      const s = connect(Number(port), host, () => resolve(s));
      s.on('error', reject);
    });
    try {
      for (let i = 0; i < 6; i++) {
        const s = await dial();
        held.push(s);
        assert.match(await request(s), /^HTTP\/1\.1 200/);
      }
      const over = await dial();
      held.push(over);
      const closed = new Promise<void>((resolve) => over.once('close', () => resolve()));
      const answer = await request(over);
      assert.match(answer, /^HTTP\/1\.1 429/);
      assert.match(answer, /RESOURCE_EXHAUSTED/);
      await closed;
      assert.match(await relay.metrics.text(), /cillion_limit_breaches_total\{kind="ui_connections"\} 1/);
      held.shift()?.destroy();
      await until('a connection to be free', async () => (await api(ui, 'whoami')).status === 200, 5000);
    } finally {
      for (const s of held) s.destroy();
    }
  });

  it('answers 408 to a client that does not finish its headers in time', async () => {
    const [host, port] = ui.address.split(':');
    const s = connect(Number(port), host);
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    s.write('GET /api/v1/whoami HTTP/1.1\r\nhost: x\r\n');
    const started = Date.now();
    await closed;
    assert.match(text, /^HTTP\/1\.1 408/);
    assert.ok(Date.now() - started < 5000, `closed after ${Date.now() - started} ms`);
  });
});
