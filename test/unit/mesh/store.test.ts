// Every way a remote catalogue is refused: each with its code, counted, logged, and leaving
// the last good catalogue of that cluster in use.
import assert from 'node:assert/strict';
import { SignedCatalogue } from '../../../proto/gen/mesh/v1/catalogue';
import { DEFAULT_CATALOGUE_LIMITS } from '../../../mesh/catalogue';
import type { CatalogueErrorCode } from '../../../mesh/error';
import { MeshPeers } from '../../../mesh/peers';
import { PodPrefixes } from '../../../mesh/prefixes';
import { RemoteCatalogues } from '../../../mesh/store';
import { BILLING, FRANKFURT, frankfurtContent, ISSUED_AT_MS, OUTSIDER, signedBytes, VIDEO, ZURICH, zurichPeers } from './helpers';

describe('mesh/store: remote identity catalogues', () => {
  let logs: string[];
  let store: RemoteCatalogues;
  beforeEach(() => {
    logs = [];
    store = new RemoteCatalogues(zurichPeers(), { limits: { ...DEFAULT_CATALOGUE_LIMITS, maxBytes: 4096, maxIdentities: 8, maxAddresses: 4 }, log: (m) => logs.push(m) });
    assert.equal(store.accept(signedBytes(frankfurtContent(), FRANKFURT.privateKey)).ok, true);
  });

  /** Refused with `code`, counted once, logged, and Frankfurt's good catalogue still resolves. */
  function refused(bytes: Uint8Array, code: CatalogueErrorCode, message: RegExp): void {
    const before = store.stats().refused[code];
    const r = store.accept(bytes);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, code);
    assert.match(r.error.message, message);
    assert.equal(store.stats().refused[code], before + 1);
    assert.match(logs.at(-1)!, new RegExp(`identity catalogue refused: ${code}`));
    assert.equal(store.byIdentity(BILLING)?.labels.includes('k8s:app=billing'), true);
    assert.equal(store.stats().clusters[0].generation, 10n);
  }

  it('resolves a remote identity to its cluster, namespace and labels, and a published address', () => {
    assert.deepEqual(store.byIdentity(BILLING), {
      identity: BILLING, clusterName: 'frankfurt', namespace: 'shop', podName: '', labels: ['k8s:app=billing', 'k8s:io.kubernetes.pod.namespace=shop'],
    });
    assert.equal(store.byIdentity(VIDEO)?.namespace, 'media');
    assert.equal(store.byAddress('10.165.0.7')?.identity, BILLING);
    assert.equal(store.byIdentity(BILLING + 5), undefined);
    assert.equal(store.byIdentity(258), undefined, 'an unscoped number names no cluster');
    assert.deepEqual(store.stats().clusters.map((c) => [c.clusterName, c.clusterId, c.identities]), [['frankfurt', 2, 2]]);
  });

  it('a newer generation replaces the catalogue; the same bytes again change nothing', () => {
    const again = store.accept(signedBytes(frankfurtContent(), FRANKFURT.privateKey));
    assert.deepEqual(again.ok && again.value.changed, false);
    const next = store.accept(signedBytes(frankfurtContent({ generation: 11n, identities: [{ id: VIDEO, labels: ['k8s:app=video2'] }] }), FRANKFURT.privateKey));
    assert.deepEqual(next.ok && next.value, { clusterName: 'frankfurt', generation: 11n, changed: true });
    assert.equal(store.byIdentity(BILLING), undefined);
    assert.deepEqual(store.byIdentity(VIDEO)?.labels, ['k8s:app=video2']);
    assert.equal(store.byAddress('10.165.0.7'), undefined);
    assert.equal(store.stats().accepted, 2);
  });

  it('refuses bytes that are not a signed catalogue', () => {
    refused(Buffer.from('not protobuf at all, \xff\xff\xff\xff'), 'MALFORMED', /not an encoded signed catalogue/);
    const inner = SignedCatalogue.encode({ catalogue: Buffer.from([0x0a, 0xff]), signature: Buffer.alloc(64) }).finish();
    refused(inner, 'MALFORMED', /not an encoded signed catalogue/);
  });

  it('refuses malformed content even when signed by the right key', () => {
    refused(signedBytes(frankfurtContent({ generation: 11n, identities: [{ id: BILLING, labels: ['k8s:a=b'] }, { id: BILLING, labels: [] }] }), FRANKFURT.privateKey), 'MALFORMED', /listed twice/);
    refused(signedBytes(frankfurtContent({ generation: 11n, identities: [{ id: BILLING, labels: ['no-source'] }] }), FRANKFURT.privateKey), 'MALFORMED', /not "source:key=value"/);
    refused(signedBytes(frankfurtContent({ generation: 11n, identities: [{ id: BILLING, labels: [], addresses: ['10.1.2'] }] }), FRANKFURT.privateKey), 'MALFORMED', /not an IP address/);
    refused(signedBytes(frankfurtContent({ generation: 0n }), FRANKFURT.privateKey), 'MALFORMED', /generation 0/);
  });

  it('refuses an unsigned catalogue', () => {
    refused(signedBytes(frankfurtContent({ generation: 11n }), null), 'UNSIGNED', /carries no signature/);
  });

  it('refuses a catalogue signed by the wrong key, or altered after signing', () => {
    refused(signedBytes(frankfurtContent({ generation: 11n }), ZURICH.privateKey), 'BAD_SIGNATURE', /frankfurt's but its key did not sign it/);
    const good = SignedCatalogue.decode(signedBytes(frankfurtContent({ generation: 11n }), FRANKFURT.privateKey));
    const altered = Buffer.from(good.catalogue);
    altered[altered.indexOf('billing')] ^= 0x20;
    refused(SignedCatalogue.encode({ catalogue: altered, signature: good.signature }).finish(), 'BAD_SIGNATURE', /did not sign it/);
    refused(SignedCatalogue.encode({ catalogue: good.catalogue, signature: good.signature.subarray(0, 63) }).finish(), 'BAD_SIGNATURE', /did not sign it/);
  });

  it('refuses a cluster that is not a peer, and this cluster\'s own name', () => {
    refused(signedBytes(frankfurtContent({ clusterName: 'outsider', clusterId: 9, identities: [] }), OUTSIDER.privateKey), 'UNKNOWN_CLUSTER', /"outsider" is not a cluster of this mesh/);
    refused(signedBytes(frankfurtContent({ clusterName: 'zurich', clusterId: 1, identities: [] }), ZURICH.privateKey), 'UNKNOWN_CLUSTER', /"zurich"/);
  });

  it('refuses a peer claiming another cluster\'s id, or identities outside its own', () => {
    refused(signedBytes(frankfurtContent({ generation: 11n, clusterId: 1, identities: [] }), FRANKFURT.privateKey), 'CLUSTER_ID_MISMATCH', /frankfurt claims cluster id 1, but it owns 2/);
    const zurichBilling = (1 << 16) | 256;
    refused(signedBytes(frankfurtContent({ generation: 11n, identities: [{ id: zurichBilling, labels: ['k8s:app=evil'] }] }), FRANKFURT.privateKey), 'FOREIGN_IDENTITY', /identity 65792 is not in cluster id 2/);
    refused(signedBytes(frankfurtContent({ generation: 11n, identities: [{ id: 2, labels: ['reserved:world'] }] }), FRANKFURT.privateKey), 'FOREIGN_IDENTITY', /identity 2 /);
    refused(signedBytes(frankfurtContent({ generation: 11n, identities: [{ id: BILLING | (1 << 24), labels: [] }] }), FRANKFURT.privateKey), 'FOREIGN_IDENTITY', /not in cluster id 2/);
  });

  it('refuses an oversize catalogue: bytes, identities, labels and addresses', () => {
    refused(Buffer.alloc(4097), 'TOO_LARGE', /4097 bytes, limit 4096/);
    const many = Array.from({ length: 9 }, (_, i) => ({ id: BILLING + i, labels: [] }));
    refused(signedBytes(frankfurtContent({ generation: 11n, identities: many }), FRANKFURT.privateKey), 'TOO_MANY', /9 identities, limit 8/);
    const addrs = Array.from({ length: 5 }, (_, i) => ({ id: BILLING + i, labels: [], addresses: [`10.0.0.${i}`] }));
    refused(signedBytes(frankfurtContent({ generation: 11n, identities: addrs }), FRANKFURT.privateKey), 'TOO_MANY', /more than 4 addresses/);
    refused(signedBytes(frankfurtContent({ generation: 11n, identities: [{ id: BILLING, labels: [`k8s:a=${'x'.repeat(600)}`] }] }), FRANKFURT.privateKey), 'TOO_LARGE', /label of 606 characters, limit 512/);
    const labels = Array.from({ length: 65 }, (_, i) => `k8s:l${i}=v`);
    refused(signedBytes(frankfurtContent({ generation: 11n, identities: [{ id: BILLING, labels }] }), FRANKFURT.privateKey), 'TOO_MANY', /65 labels, limit 64/);
  });

  it('refuses a stale generation, and a different catalogue under the held generation', () => {
    refused(signedBytes(frankfurtContent({ generation: 9n }), FRANKFURT.privateKey), 'STALE', /generation 9 is not newer than the held 10/);
    const logged = logs.length;
    refused(signedBytes(frankfurtContent({ generation: 9n }), FRANKFURT.privateKey), 'STALE', /generation 9/);
    assert.equal(logs.length, logged, 'the same refusal again is counted, not logged again');
    refused(signedBytes(frankfurtContent({ identities: [{ id: BILLING, labels: ['k8s:app=other'] }] }), FRANKFURT.privateKey), 'STALE', /generation 10 is not newer than the held 10/);
  });

  it('refuses a catalogue issued ahead of this clock beyond the skew, or whose generation runs ahead of its issue time', () => {
    let clock = ISSUED_AT_MS;
    const s = new RemoteCatalogues(zurichPeers(), { now: () => clock, freshness: { maxClockSkewMs: 60_000, maxAgeMs: 3600_000 }, log: (m) => logs.push(m) });
    const at = (issued: number, generation: bigint) => signedBytes(frankfurtContent({ issuedAtMs: BigInt(issued), generation }), FRANKFURT.privateKey);
    const ahead = s.accept(at(clock + 60_001, 10n));
    assert.deepEqual(!ahead.ok && [ahead.error.code, ahead.error.message], ['FUTURE', 'FUTURE: frankfurt generation 10 issued 60001 ms ahead of this clock, limit 60000']);
    // The largest generation a signer can write would hold off every later catalogue for ever.
    const frozen = s.accept(at(clock, 2n ** 63n - 1n));
    assert.deepEqual(!frozen.ok && frozen.error.code, 'FUTURE');
    assert.match(!frozen.ok ? frozen.error.message : '', /generation 9223372036854775807 runs ahead of its issue time/);
    assert.equal(s.stats().refused.FUTURE, 2);
    assert.equal(s.accept(at(clock + 60_000, BigInt(clock + 120_000))).ok, true, 'within the skew on both counts');
    assert.equal(s.stats().clusters[0].generation, BigInt(clock + 120_000));
    clock += 10_000;
    assert.equal(s.accept(at(clock, BigInt(clock))).ok, false, 'an honest next generation waits only as long as the skew allowed');
    clock += 120_000;
    assert.equal(s.accept(at(clock, BigInt(clock))).ok, true);
  });

  it('refuses a catalogue issued longer ago than the maximum age: a replay to a receiver that restarted', () => {
    const clock = ISSUED_AT_MS;
    const s = new RemoteCatalogues(zurichPeers(), { now: () => clock, freshness: { maxClockSkewMs: 60_000, maxAgeMs: 3600_000 }, log: (m) => logs.push(m) });
    const old = s.accept(signedBytes(frankfurtContent({ issuedAtMs: BigInt(clock - 3600_001) }), FRANKFURT.privateKey));
    assert.deepEqual(!old.ok && [old.error.code, old.error.message], ['STALE', 'STALE: frankfurt generation 10 issued 3600 s ago, limit 3600 s']);
    assert.equal(s.stats().clusters.length, 0);
    assert.equal(s.accept(signedBytes(frankfurtContent({ issuedAtMs: BigInt(clock - 3600_000) }), FRANKFURT.privateKey)).ok, true);
  });

  it('a peer names pods only inside its declared prefixes: this cluster\'s pods and another peer\'s stay out', () => {
    const basel = PodPrefixes.parse(['10.170.0.0/16'], 'basel');
    const s = new RemoteCatalogues(new MeshPeers([...zurichPeers().list(), { clusterName: 'outsider', clusterId: 9, publicKey: OUTSIDER.publicKey, prefixes: basel }], ZURICH), { log: (m) => logs.push(m) });
    const claims = frankfurtContent({
      identities: [
        { id: BILLING, labels: ['k8s:app=billing'], addresses: ['10.165.0.7', '10.164.0.5', 'fd00:164::5'] },
        { id: VIDEO, labels: ['k8s:app=video'], addresses: ['10.170.0.3'] },
      ],
    });
    assert.equal(s.accept(signedBytes(claims, FRANKFURT.privateKey)).ok, true);
    assert.equal(s.byAddress('10.165.0.7')?.clusterName, 'frankfurt');
    for (const a of ['10.164.0.5', 'fd00:164::5', '10.170.0.3']) assert.equal(s.byAddress(a), undefined, a);
    assert.equal(s.byIdentity(VIDEO)?.clusterName, 'frankfurt', 'the catalogue is taken; only the addresses are dropped');
    assert.deepEqual([s.stats().addressesDropped, s.stats().clusters[0].addressesDropped], [3, 3]);
    assert.match(logs.at(-1)!, /catalogue of frankfurt generation 10: 3 address\(es\) dropped \(10\.164\.0\.5 first\), the cluster has its pod prefixes 10\.165\.0\.0\/16/);
    // Basel's own address is Basel's, whatever Frankfurt claimed.
    const own = frankfurtContent({ clusterName: 'outsider', clusterId: 9, identities: [{ id: (9 << 16) | 300, labels: ['k8s:app=billing'], addresses: ['10.170.0.3', '10.165.0.7'] }] });
    assert.equal(s.accept(signedBytes(own, OUTSIDER.privateKey)).ok, true);
    assert.equal(s.byAddress('10.170.0.3')?.clusterName, 'outsider');
    assert.equal(s.byAddress('10.165.0.7')?.clusterName, 'frankfurt');
    assert.equal(s.stats().addressesDropped, 4);
  });

  it('a peer with no declared prefixes names no pod by address', () => {
    const s = new RemoteCatalogues(new MeshPeers([{ clusterName: 'frankfurt', clusterId: 2, publicKey: FRANKFURT.publicKey }], ZURICH), { log: (m) => logs.push(m) });
    assert.equal(s.accept(signedBytes(frankfurtContent(), FRANKFURT.privateKey)).ok, true);
    assert.equal(s.byAddress('10.165.0.7'), undefined);
    assert.equal(s.byIdentity(BILLING)?.clusterName, 'frankfurt');
    assert.equal(s.stats().addressesDropped, 1);
    assert.match(logs.at(-1)!, /no pod prefixes in the mesh file/);
  });
});
