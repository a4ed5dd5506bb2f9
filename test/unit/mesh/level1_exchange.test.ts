// The Level 1 key exchange through the real mesh HTTP server on loopback: frankfurt (B)
// asks zurich (A) for K_{zurich,frankfurt}. Every attacker's move is made over HTTP against
// the server that also answers honest requests, and every forged or misdirected answer is
// served by a mesh/http.ts server standing in for a lying or intercepted zurich.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { request, type Server } from 'node:http';
import { connect } from 'node:net';
import { Level1Request, Level1Response, SignedLevel1Request, SignedLevel1Response } from '../../../proto/gen/mesh/v1/drkey';
import { DrkeyIssuer } from '../../../scion/drkey/level1';
import { parseIA } from '../../../scion/isdas';
import { exchangeBytes, serveCatalogue, type PostAnswer } from '../../../mesh/http';
import { fetchLevel1, level1Url, makeRequest, type Level1ClientOptions } from '../../../mesh/level1_client';
import { Level1Server, type Level1ServerLimits } from '../../../mesh/level1_server';
import { digest, LEVEL1_PATH, REQUEST_CONTEXT, RESPONSE_CONTEXT, sealKey, wrapKey, x25519FromRaw, x25519Raw } from '../../../mesh/level1_wire';
import { signWith } from '../../../mesh/signing';
import { MeshPeers } from '../../../mesh/peers';
import { FRANKFURT, OUTSIDER, ZURICH } from './helpers';

const ZRH_IA = parseIA('64-2:0:20');
const FRA_IA = parseIA('65-2:0:20');
const EPOCH_S = 360;
/** An instant inside an epoch of 6-minute epochs. */
const T0_S = 1_780_000_200;
const NOW_MS = T0_S * 1000;
const zurichIssuer = new DrkeyIssuer({ localIA: ZRH_IA, masterSecret: new Uint8Array(32).fill(7), epochSeconds: EPOCH_S });
/** Zurich's view: frankfurt is its peer, with the key and ISD-AS zurich pinned for it. */
const zurichPeers = new MeshPeers([{ clusterName: 'frankfurt', clusterId: 2, ia: FRA_IA, publicKey: FRANKFURT.publicKey }], { clusterName: 'zurich', clusterId: 1, ia: ZRH_IA });
const frankfurtClient: Level1ClientOptions = { clusterName: 'frankfurt', ia: FRA_IA, privateKey: FRANKFURT.privateKey, now: () => NOW_MS, timeoutMs: 3000 };

/** The mesh HTTP server with the key route's limits, answering with `handle` (a lying zurich). */
async function serve(handle: (body: Uint8Array) => PostAnswer) {
  const limits = new Level1Server({ clusterName: 'zurich', issuer: zurichIssuer, privateKey: ZURICH.privateKey, peers: zurichPeers }).route();
  const s = await serveCatalogue(() => ({ ok: true, value: new Uint8Array(0) }), '127.0.0.1', 0, { post: { ...limits, handle } });
  return { server: s.server, zurich: { clusterName: 'zurich', clusterId: 1, ia: ZRH_IA, publicKey: ZURICH.publicKey, url: s.url } };
}

/** Zurich's real server on loopback. */
async function honest(limits: Partial<Level1ServerLimits> = {}) {
  const level1 = new Level1Server({ clusterName: 'zurich', issuer: zurichIssuer, privateKey: ZURICH.privateKey, peers: zurichPeers, now: () => NOW_MS, limits });
  const s = await serveCatalogue(() => ({ ok: true, value: new Uint8Array(0) }), '127.0.0.1', 0, { post: level1.route() });
  return { server: s.server, url: s.url, level1, zurich: { clusterName: 'zurich', clusterId: 1, ia: ZRH_IA, publicKey: ZURICH.publicKey, url: s.url } };
}

const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

/** A request as frankfurt's client builds it, with any field (and the signer) replaced. */
function requestBytes(over: Partial<Level1Request> = {}, signer: KeyObject | null = FRANKFURT.privateKey): Uint8Array {
  const req = Level1Request.encode({
    requester: 'frankfurt',
    issuer: 'zurich',
    timestampMs: BigInt(NOW_MS),
    validAt: [T0_S],
    ephemeralPublicKey: x25519Raw(generateKeyPairSync('x25519').publicKey),
    ...over,
  }).finish();
  const signature = signer ? signWith(REQUEST_CONTEXT, req, signer) : Buffer.alloc(0);
  return SignedLevel1Request.encode({ request: Buffer.from(req), signature }).finish();
}

/** An answer to `reqBytes` made with zurich's keys (or `signer`), bent as an attacker would. */
function craftAnswer(reqBytes: Uint8Array, bend: { requester?: string; epochShift?: number; signer?: KeyObject; digestOf?: Uint8Array } = {}): Uint8Array {
  const req = Level1Request.decode(SignedLevel1Request.decode(reqBytes).request);
  const own = generateKeyPairSync('x25519');
  const requester = bend.requester ?? req.requester;
  const requestDigest = digest(bend.digestOf ?? reqBytes);
  const ctx = { issuer: 'zurich', requester, requestDigest, requesterPublic: req.ephemeralPublicKey, issuerPublic: x25519Raw(own.publicKey) };
  const wrap = wrapKey(own.privateKey, x25519FromRaw(req.ephemeralPublicKey)!, ctx)!;
  const l1 = zurichIssuer.level1(FRA_IA, req.validAt[0], bend.epochShift ?? 0);
  const response = Level1Response.encode({
    issuer: 'zurich',
    requester,
    requestDigest,
    ephemeralPublicKey: ctx.issuerPublic,
    keys: [{ epochBegin: l1.epoch.begin, epochEnd: l1.epoch.end, sealedKey: sealKey(wrap, ctx, 0, l1.epoch, l1.key) }],
  }).finish();
  return SignedLevel1Response.encode({ response: Buffer.from(response), signature: signWith(RESPONSE_CONTEXT, response, bend.signer ?? ZURICH.privateKey) }).finish();
}

/** Sends the head of a POST and `partial` body bytes, then nothing; resolves with what the server answers. */
function stalledPost(url: string, declared: number, partial: number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const sock = connect(Number(port), hostname, () => {
      sock.write(`POST ${LEVEL1_PATH} HTTP/1.1\r\nhost: x\r\ncontent-length: ${declared}\r\n\r\n`);
      sock.write(Buffer.alloc(partial));
    });
    let text = '';
    sock.on('data', (c) => (text += c.toString()));
    sock.on('close', () => resolve(text));
    sock.on('error', () => resolve(text));
  });
}

/** POSTs `body` from the local address `from` (any of 127.0.0.0/8 on loopback); resolves with the status. */
function postFrom(from: string, url: string, body: Uint8Array): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: LEVEL1_PATH, method: 'POST', localAddress: from, headers: { 'content-length': body.length } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('mesh/level1: Level 1 keys between control planes over the mesh HTTP server', () => {
  it('gives frankfurt K_{zurich,frankfurt} of the epochs asked, equal to what zurich derives', async () => {
    const z = await honest();
    try {
      const r = await fetchLevel1(frankfurtClient, z.zurich, [T0_S, T0_S + EPOCH_S]);
      assert.ok(r.ok, !r.ok ? r.error.message : '');
      assert.deepEqual(
        r.value.map((k) => [k.epoch, Buffer.from(k.key).toString('hex'), k.srcIA, k.dstIA]),
        [0, 1].map((o) => {
          const l1 = zurichIssuer.level1(FRA_IA, T0_S, o);
          return [l1.epoch, Buffer.from(l1.key).toString('hex'), ZRH_IA, FRA_IA];
        }),
      );
      assert.equal(level1Url(z.zurich), z.url.replace('/v1/identity-catalogue', LEVEL1_PATH));
      assert.equal(z.level1.stats().served, 1);
    } finally {
      await close(z.server);
    }
  });

  it('refuses unsigned, forged, unknown, replayed, stale and out-of-range requests with their code, and keeps serving', async () => {
    const z = await honest();
    const url = level1Url(z.zurich)!;
    try {
      const once = requestBytes();
      const cases: Array<[string, Uint8Array, RegExp]> = [
        ['unsigned', requestBytes({}, null), /HTTP 403: UNSIGNED/],
        ['forged: frankfurt\'s name, another key', requestBytes({}, OUTSIDER.privateKey), /HTTP 403: BAD_SIGNATURE/],
        ['a cluster not in the peers', requestBytes({ requester: 'outsider' }, OUTSIDER.privateKey), /HTTP 403: UNKNOWN_CLUSTER/],
        ['first of a pair', once, /^$/],
        ['the same request again', once, /HTTP 403: REPLAYED/],
        ['signed a minute ago', requestBytes({ timestampMs: BigInt(NOW_MS - 60_000) }), /HTTP 403: STALE/],
        ['an epoch two ahead', requestBytes({ validAt: [T0_S + 2 * EPOCH_S] }), /HTTP 400: BAD_EPOCH/],
        ['a past epoch', requestBytes({ validAt: [T0_S - 2 * EPOCH_S] }), /HTTP 400: BAD_EPOCH/],
        ['meant for another issuer', requestBytes({ issuer: 'paris' }), /HTTP 400: MALFORMED/],
        ['garbage', Buffer.from('not a protobuf at all, just some text'), /HTTP 400: MALFORMED/],
      ];
      for (const [what, body, re] of cases) {
        const r = await exchangeBytes(url, body, 4096, 3000);
        if (re.source === '^$') assert.ok(r.ok, what);
        else assert.match(!r.ok ? r.error.message : 'accepted', re, what);
      }
      const honestAfter = await fetchLevel1(frankfurtClient, z.zurich, [T0_S]);
      assert.ok(honestAfter.ok);
      const st = z.level1.stats();
      assert.deepEqual([st.served, st.refused.UNSIGNED, st.refused.BAD_SIGNATURE, st.refused.UNKNOWN_CLUSTER, st.refused.REPLAYED, st.refused.STALE, st.refused.BAD_EPOCH, st.refused.MALFORMED], [2, 1, 1, 1, 1, 1, 2, 2]);
    } finally {
      await close(z.server);
    }
  });

  it('frees the slot of a client that hangs up half-way through its body', async () => {
    const z = await honest({ maxInFlight: 1 });
    const url = level1Url(z.zurich)!;
    try {
      const { hostname, port } = new URL(url);
      await new Promise<void>((resolve) => {
        const sock = connect(Number(port), hostname, () => {
          sock.write(`POST ${LEVEL1_PATH} HTTP/1.1\r\nhost: x\r\ncontent-length: 200\r\n\r\n`);
          sock.write(Buffer.alloc(10), () => setImmediate(() => sock.destroy()));
        });
        sock.on('close', () => resolve());
      });
      // The one slot of this address is free again at once, not after the body deadline.
      const deadline = Date.now() + 2000;
      let r = await exchangeBytes(url, requestBytes(), 4096, 3000);
      while (!r.ok && Date.now() < deadline) r = await exchangeBytes(url, requestBytes(), 4096, 3000);
      assert.ok(r.ok, !r.ok ? r.error.message : '');
      assert.equal(z.level1.stats().refused.TIMEOUT, 0);
    } finally {
      await close(z.server);
    }
  });

  it('remembers requests per requesting cluster: one that asks in a loop is refused BUSY, another is still served', async () => {
    const peers = new MeshPeers(
      [
        { clusterName: 'frankfurt', clusterId: 2, ia: FRA_IA, publicKey: FRANKFURT.publicKey },
        { clusterName: 'munich', clusterId: 3, ia: parseIA('66-2:0:20'), publicKey: OUTSIDER.publicKey },
      ],
      { clusterName: 'zurich', clusterId: 1, ia: ZRH_IA },
    );
    const level1 = new Level1Server({ clusterName: 'zurich', issuer: zurichIssuer, privateKey: ZURICH.privateKey, peers, now: () => NOW_MS, limits: { maxRemembered: 2 } });
    const s = await serveCatalogue(() => ({ ok: true, value: new Uint8Array(0) }), '127.0.0.1', 0, { post: level1.route() });
    const url = s.url.replace('/v1/identity-catalogue', LEVEL1_PATH);
    try {
      for (let i = 0; i < 2; i++) assert.ok((await exchangeBytes(url, requestBytes(), 4096, 3000)).ok, `frankfurt's request ${i}`);
      const third = await exchangeBytes(url, requestBytes(), 4096, 3000);
      assert.match(!third.ok ? third.error.message : 'accepted', /HTTP 503: BUSY: 2 requests of frankfurt/);
      const munich = await exchangeBytes(url, requestBytes({ requester: 'munich' }, OUTSIDER.privateKey), 4096, 3000);
      assert.ok(munich.ok, !munich.ok ? munich.error.message : '');
    } finally {
      await close(s.server);
    }
  });

  it('bounds the body: an announced or streamed oversize request gets 413 before it is read whole', async () => {
    const z = await honest({ maxRequestBytes: 1024 });
    const url = level1Url(z.zurich)!;
    try {
      const announced = await exchangeBytes(url, Buffer.alloc(5000), 4096, 3000);
      assert.match(!announced.ok ? announced.error.message : '', /HTTP 413: TOO_LARGE: 5000 bytes announced, limit 1024/);
      const streamed = await new Promise<number>((resolve, reject) => {
        const { hostname, port } = new URL(url);
        const req = request({ host: hostname, port, path: LEVEL1_PATH, method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => resolve(res.statusCode ?? 0));
        req.on('error', reject);
        for (let i = 0; i < 8; i++) req.write(Buffer.alloc(512));
        req.end();
      });
      assert.equal(streamed, 413);
      assert.equal(z.level1.stats().refused.TOO_LARGE, 2);
      assert.ok((await fetchLevel1(frankfurtClient, z.zurich, [T0_S])).ok);
    } finally {
      await close(z.server);
    }
  });

  it('cuts off a slow client (408) and refuses its address requests beyond the in-flight bound (503), serving other addresses meanwhile and it again after', async () => {
    const z = await honest({ bodyTimeoutMs: 300, maxInFlight: 2 });
    const url = level1Url(z.zurich)!;
    try {
      const started = Date.now();
      const slow = [stalledPost(url, 200, 10), stalledPost(url, 200, 10)];
      // Both slots are taken once the server has counted both: a third is refused at once.
      const deadline = Date.now() + 2000;
      let third = await exchangeBytes(url, requestBytes(), 4096, 3000);
      while (third.ok && Date.now() < deadline) third = await exchangeBytes(url, requestBytes(), 4096, 3000);
      assert.match(!third.ok ? third.error.message : 'served', /HTTP 503: BUSY: 2 requests from 127\.0\.0\.1/);
      // The bound is per client address: another address is served while this one is held.
      assert.equal(await postFrom('127.0.0.2', url, requestBytes()), 200);
      const answers = await Promise.all(slow);
      for (const a of answers) assert.match(a, /^HTTP\/1\.1 408[^]*TIMEOUT/);
      assert.ok(Date.now() - started < 3000, 'the slow clients were cut off at the body deadline');
      const st = z.level1.stats().refused;
      assert.deepEqual([st.TIMEOUT, st.BUSY >= 1], [2, true]);
      assert.ok((await fetchLevel1(frankfurtClient, z.zurich, [T0_S])).ok);
    } finally {
      await close(z.server);
    }
  });

  it('refuses answers that are forged, for another epoch, another requester or request, or oversize; nothing is returned', async () => {
    let bend: (req: Uint8Array) => Uint8Array = (req) => craftAnswer(req);
    const z = await serve((body) => ({ status: 200, body: bend(body) }));
    try {
      const earlier = makeRequest(frankfurtClient, 'zurich', [T0_S]).bytes;
      const cases: Array<[string, (req: Uint8Array) => Uint8Array, RegExp]> = [
        ['signed by another key', (req) => craftAnswer(req, { signer: OUTSIDER.privateKey }), /^BAD_SIGNATURE/],
        ['for the next epoch, not the one asked', (req) => craftAnswer(req, { epochShift: 1 }), /^BAD_EPOCH: .*holds none of the times asked/],
        ['for another requester', (req) => craftAnswer(req, { requester: 'paris' }), /^WRONG_ANSWER/],
        ['an answer to an earlier request', (req) => craftAnswer(req, { digestOf: earlier }), /^WRONG_ANSWER/],
        ['a signature over other bytes', (req) => {
          const s = SignedLevel1Response.decode(craftAnswer(req));
          s.response[s.response.length - 1] ^= 1;
          return SignedLevel1Response.encode(s).finish();
        }, /^BAD_SIGNATURE/],
        ['unsigned', (req) => SignedLevel1Response.encode({ ...SignedLevel1Response.decode(craftAnswer(req)), signature: Buffer.alloc(0) }).finish(), /^UNSIGNED/],
        ['oversize', () => Buffer.alloc(64 * 1024), /^TOO_LARGE/],
        ['garbage', () => Buffer.from('\xff\xff\xff\xff'), /^MALFORMED/],
      ];
      for (const [what, b, re] of cases) {
        bend = b;
        const r = await fetchLevel1(frankfurtClient, z.zurich, [T0_S]);
        assert.equal(r.ok, false, what);
        assert.match(!r.ok ? r.error.message : '', re, what);
      }
      bend = (req) => craftAnswer(req);
      assert.ok((await fetchLevel1(frankfurtClient, z.zurich, [T0_S])).ok, 'the same server answering honestly is accepted');
    } finally {
      await close(z.server);
    }
  });
});
