// The relay's web UI server through a real relay: static files and their headers, paths that
// try to leave the bundle, the 503 page of an unbuilt bundle, the API's refusals (header,
// JSON, path, method, body size) and its answers (whoami, GetFlows as NDJSON, the unary calls).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay, type Relay } from '../../../../relay/server';
import { CONTENT_SECURITY_POLICY, defaultStaticDir, packageRoot } from '../../../../relay/ui/static_files';
import { makeFlow } from '../../observer/helpers';
import { FakeCollector } from '../exporter_client';
import { api, fetchUi, lines, open, type UiTarget } from './ui_client';
import { until } from '../../../until';

describe('relay/ui gateway', function () {
  this.timeout(30_000);
  let dir: string;
  let relay: Relay;
  let ui: UiTarget;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-ui-'));
    const web = join(dir, 'web');
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>cillion</title>');
    writeFileSync(join(web, 'app.js'), 'console.log(1);');
    writeFileSync(join(web, 'app.css'), 'body{}');
    writeFileSync(join(web, 'assets', 'x.svg'), '<svg/>');
    writeFileSync(join(dir, 'secret.txt'), 'outside');
    writeFileSync(join(web, '.env'), 'hidden');
    symlinkSync(join(dir, 'secret.txt'), join(web, 'link.txt'));
    relay = await startRelay({ listen: '127.0.0.1:0', name: 'zurich-relay', cluster: 'zurich', mergeWindowMs: 20, ui: { listen: '127.0.0.1:0', staticDir: web } });
    ui = { address: relay.uiAddress as string };
    const c = new FakeCollector(relay.address, 'node-a', 'node-a-session', undefined, 'zurich');
    await c.acked(c.send([0, 1, 2, 3, 4].map((i) => makeFlow(i, { nodeName: 'node-a', source: { namespace: i % 3 === 0 ? 'shop' : 'bank', podName: `pod-${i}`, labels: ['k8s:app=web'], clusterName: 'zurich', workloads: [] } as never }))));
    relay.flushLive();
    await until('five flows in the hub', () => relay.hub.size === 5, 5000);
    await c.close();
  });
  after(async () => {
    await relay?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has no UI server unless asked, and logs where it is', async () => {
    const r = await startRelay({ listen: '127.0.0.1:0' });
    try {
      assert.equal(r.uiAddress, undefined);
    } finally {
      await r.close();
    }
    const said: string[] = [];
    const withUi = await startRelay({ listen: '127.0.0.1:0', ui: { listen: '127.0.0.1:0' }, log: (m) => said.push(m) });
    await withUi.close();
    assert.ok(said.includes(`web UI on http://${withUi.uiAddress}/`), said.join('\n'));
  });

  it('does not start when the UI port is taken, and leaves the gRPC port free', async () => {
    const { createServer } = await import('node:net');
    const listenOn = async (port: number) => {
      const s = createServer();
      await new Promise<void>((resolve, reject) => s.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
      return { port: (s.address() as { port: number }).port, close: () => new Promise<void>((resolve) => s.close(() => resolve())) };
    };
    const holder = await listenOn(0);
    const spare = await listenOn(0);
    await spare.close();
    try {
      await assert.rejects(startRelay({ listen: `127.0.0.1:${spare.port}`, ui: { listen: `127.0.0.1:${holder.port}` } }), /EADDRINUSE/);
      await (await listenOn(spare.port)).close();
    } finally {
      await holder.close();
    }
  });

  it('refuses plaintext on a non-loopback UI address unless told otherwise', async () => {
    await assert.rejects(startRelay({ listen: '127.0.0.1:0', ui: { listen: '0.0.0.0:0' } }), /refusing to serve flows without TLS on 0\.0\.0\.0:0/);
  });

  it('closes with a browser still following, its stream ended by an UNAVAILABLE status line', async () => {
    const r = await startRelay({ listen: '127.0.0.1:0', ui: { listen: '127.0.0.1:0' } });
    const res = await open({ address: r.uiAddress as string }, 'POST', '/api/v1/observer.Observer/GetFlows', '{"follow":true}', { 'x-cillion-ui': '1' });
    assert.equal(res.statusCode, 200);
    let text = '';
    let aborted = false;
    res.on('error', () => (aborted = true));
    res.on('aborted', () => (aborted = true));
    res.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const ended = new Promise<void>((resolve) => res.once('close', () => resolve()));
    const started = Date.now();
    await r.close();
    await ended;
    assert.ok(Date.now() - started < 3000, `close took ${Date.now() - started} ms`);
    assert.equal(aborted, false, 'the response was cut, not ended');
    const last = lines(text).at(-1);
    assert.deepEqual(last, { status: { code: 14, name: 'UNAVAILABLE', message: 'the relay is shutting down' } });
  });

  it('finds the bundle under the package root, from the sources as from dist/', () => {
    const root = join(__dirname, '..', '..', '..', '..');
    assert.equal(defaultStaticDir(), join(root, 'dist', 'web'));
    assert.equal(packageRoot(join(root, 'dist', 'relay', 'ui')), root);
  });

  it('serves the bundle with content types, CSP and nosniff', async () => {
    for (const [path, type] of [['/', 'text/html; charset=utf-8'], ['/index.html', 'text/html; charset=utf-8'], ['/app.js', 'text/javascript; charset=utf-8'], ['/app.css', 'text/css; charset=utf-8'], ['/assets/x.svg', 'image/svg+xml']]) {
      const r = await fetchUi(ui, 'GET', path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers['content-type'], type, path);
      assert.equal(r.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
    assert.equal((await fetchUi(ui, 'HEAD', '/app.js')).status, 200);
    assert.equal((await fetchUi(ui, 'GET', '/missing.js')).status, 404);
    const post = await fetchUi(ui, 'POST', '/index.html', '{}');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
  });

  it('serves nothing outside the bundle, however the path is spelt', async () => {
    for (const path of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets%2f..%2f..%2fsecret.txt', '/..%5csecret.txt', '/%00index.html', '/.env', '/link.txt', '/%E0%A4%A']) {
      const r = await fetchUi(ui, 'GET', path);
      assert.equal(r.status, 404, `${path}: ${r.status} ${r.text}`);
      assert.doesNotMatch(r.text, /outside|hidden/);
    }
  });

  it('says the bundle is not built (503) when it is missing', async () => {
    const r = await startRelay({ listen: '127.0.0.1:0', ui: { listen: '127.0.0.1:0', staticDir: join(dir, 'not-built') } });
    try {
      const page = await fetchUi({ address: r.uiAddress as string }, 'GET', '/');
      assert.equal(page.status, 503);
      assert.match(page.text, /not built.*make build/s);
      assert.equal((await api({ address: r.uiAddress as string }, 'whoami')).status, 200, 'the API works without the bundle');
    } finally {
      await r.close();
    }
  });

  it('answers whoami: plaintext grants every role', async () => {
    const r = await api(ui, 'whoami');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), { name: '', roles: ['attester', 'collector', 'peer', 'reader'], tls: false, relay: 'zurich-relay', cluster: 'zurich' });
  });

  it('refuses an API call without the UI header (403)', async () => {
    const r = await fetchUi(ui, 'POST', '/api/v1/observer.Observer/ServerStatus', '{}');
    assert.equal(r.status, 403);
    assert.deepEqual(JSON.parse(r.text), { code: 7, name: 'PERMISSION_DENIED', message: 'API requests must carry the header x-cillion-ui: 1' });
    assert.equal((await fetchUi(ui, 'GET', '/api/v1/whoami', undefined, { 'x-cillion-ui': '0' })).status, 403);
    // Another site's page would need a preflight to send the header; it is never granted.
    const preflight = await fetchUi(ui, 'OPTIONS', '/api/v1/whoami', undefined, { origin: 'https://evil.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-cillion-ui' });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    assert.equal(preflight.headers['access-control-allow-headers'], undefined);
  });

  it('refuses bad JSON and wrong types (400), unknown paths (404), wrong methods (405)', async () => {
    for (const body of ['{bad', '[1]', '"x"', 'null']) {
      const r = await fetchUi(ui, 'POST', '/api/v1/observer.Observer/GetFlows', body, { 'x-cillion-ui': '1' });
      assert.equal(r.status, 400, body);
      assert.equal((JSON.parse(r.text) as { name: string }).name, 'INVALID_ARGUMENT');
    }
    const badFilter = await api(ui, 'observer.Observer/GetFlows', { whitelist: [{ sourceIp: ['10.0.0.1/99'] }] });
    assert.equal(badFilter.status, 400, 'a filter the handler refuses is an HTTP error, not a 200 stream');
    assert.match(badFilter.text, /invalid CIDR/);
    const unknown = await api(ui, 'observer.Observer/GetAgentEventsX', {});
    assert.equal(unknown.status, 404);
    assert.equal((JSON.parse(unknown.text) as { code: number }).code, 5);
    const wrong = await fetchUi(ui, 'GET', '/api/v1/observer.Observer/ServerStatus', undefined, { 'x-cillion-ui': '1' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'POST');
    assert.equal((await fetchUi(ui, 'POST', '/api/v1/whoami', '{}', { 'x-cillion-ui': '1' })).status, 405);
  });

  it('refuses a number or a time no gRPC client could send, naming the field (400), and takes the ones it could', async () => {
    const refused: Array<[string, unknown, RegExp]> = [
      ['GetFlows', { number: '-1' }, /GetFlowsRequest\.number "-1" is not an unsigned 64-bit integer/],
      ['GetFlows', { number: '18446744073709551616' }, /GetFlowsRequest\.number .* is not an unsigned 64-bit integer/],
      ['GetFlows', { number: 1.5 }, /GetFlowsRequest\.number 1\.5 is not/],
      ['GetFlows', { since: 'yesterday' }, /GetFlowsRequest\.since "yesterday" is not an RFC 3339 time/],
      ['GetFlows', { until: '99999-01-01T00:00:00Z' }, /GetFlowsRequest\.until .* is not an RFC 3339 time/],
      ['GetFlows', { since: 12 }, /GetFlowsRequest\.since 12 is not an RFC 3339 time/],
    ];
    for (const [method, body, message] of refused) {
      const r = await api(ui, `observer.Observer/${method}`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match((JSON.parse(r.text) as { message: string }).message, message);
    }
    const attest = await api(ui, 'cillion.attest.v1.Attest/Export', { since: 'last week' });
    assert.equal(attest.status, 400);
    assert.match((JSON.parse(attest.text) as { message: string }).message, /ExportRequest\.since "last week" is not an RFC 3339 time/);
    for (const body of [{ number: '18446744073709551615' }, { number: 3 }, { since: '2026-12-05T10:00:00.123456789Z', until: '2026-12-05T12:00:00+01:00' }]) {
      const r = await api(ui, 'observer.Observer/GetFlows', body);
      assert.equal(r.status, 200, `${JSON.stringify(body)}: ${r.text}`);
      assert.deepEqual(lines(r.text).at(-1), { status: { code: 0, name: 'OK', message: '' } });
    }
  });

  it('refuses a body over 64 KiB (413), declared or streamed, and keeps serving', async () => {
    const big = JSON.stringify({ whitelist: [{ sourcePod: ['x'.repeat(70 * 1024)] }] });
    const r = await fetchUi(ui, 'POST', '/api/v1/observer.Observer/GetFlows', big, { 'x-cillion-ui': '1' });
    assert.equal(r.status, 413);
    assert.equal((JSON.parse(r.text) as { name: string }).name, 'RESOURCE_EXHAUSTED');
    const chunked = await new Promise<number>((resolve, reject) => {
      const { request } = require('node:http') as typeof import('node:http');
      const [host, port] = ui.address.split(':');
      const req = request({ host, port: Number(port), method: 'POST', path: '/api/v1/observer.Observer/GetFlows', headers: { 'x-cillion-ui': '1', 'transfer-encoding': 'chunked' }, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 80; i++) req.write('x'.repeat(1024));
      req.end();
    });
    assert.equal(chunked, 413);
    assert.equal((await api(ui, 'whoami')).status, 200);
    assert.match(await relay.metrics.text(), /cillion_limit_breaches_total\{kind="ui_body"\} 2/);
  });

  it('takes JSON nested as deep as the body limit allows without failing (what fromJSON cannot read is ignored)', async () => {
    const deep = `{"whitelist":${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
    const r = await fetchUi(ui, 'POST', '/api/v1/observer.Observer/GetFlows', deep, { 'x-cillion-ui': '1' });
    assert.ok(r.status < 500, `${r.status} ${r.text.slice(0, 200)}`);
    assert.equal((await api(ui, 'whoami')).status, 200);
  });

  it('answers GetFlows as NDJSON ending in an OK status line', async () => {
    const r = await api(ui, 'observer.Observer/GetFlows', { number: '3' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/x-ndjson; charset=utf-8');
    const got = lines(r.text);
    assert.equal(got.length, 4);
    for (const l of got.slice(0, 3)) {
      const flow = l.flow as { uuid: string; source: { namespace: string } };
      assert.match(flow.uuid, /^00000000-0000-4000-8000-00000000000[234]$/);
      assert.equal(l.nodeName, 'zurich/node-a');
      assert.ok(typeof l.time === 'string');
    }
    assert.deepEqual(got[3], { status: { code: 0, name: 'OK', message: '' } });
    const filtered = lines((await api(ui, 'observer.Observer/GetFlows', { whitelist: [{ sourcePod: ['bank/pod-1'] }] })).text);
    assert.deepEqual(filtered.map((l) => (l.flow as { source: { podName: string } } | undefined)?.source.podName ?? 'status'), ['pod-1', 'status']);
  });

  it('answers ServerStatus, GetNodes and GetNamespaces as proto3 JSON', async () => {
    const st = JSON.parse((await api(ui, 'observer.Observer/ServerStatus', {})).text) as { numFlows: string; numConnectedNodes?: number; version: string };
    assert.equal(st.numFlows, '5');
    assert.equal(st.version.length > 0, true);
    const nodes = JSON.parse((await api(ui, 'observer.Observer/GetNodes', {})).text) as { nodes: { name: string }[] };
    assert.deepEqual(nodes.nodes.map((n) => n.name), ['zurich/node-a']);
    const ns = JSON.parse((await api(ui, 'observer.Observer/GetNamespaces', {})).text) as { namespaces: { namespace: string }[] };
    assert.deepEqual(ns.namespaces.map((n) => n.namespace).sort(), ['bank', 'db', 'shop']);
  });
});
