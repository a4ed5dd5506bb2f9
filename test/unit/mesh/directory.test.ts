// A peer's verified catalogue as the directory network policies resolve remote selectors
// with: labels under the cluster's name, addresses for egress, the cluster known even
// before its catalogue has an identity, and nothing from a catalogue the store refused.
import assert from 'node:assert/strict';
import { CatalogueDirectory } from '../../../mesh/directory';
import { RemoteCatalogues } from '../../../mesh/store';
import { CLUSTER_LABEL } from '../../../resources/networkpolicy';
import { BILLING, FRANKFURT, frankfurtContent, OUTSIDER, signedBytes, VIDEO, zurichPeers } from './helpers';

const sel = (matchLabels: Record<string, string>) => ({ matchLabels, matchExpressions: [] });

describe('mesh: peers\' catalogues as an identity directory', () => {
  it('resolves labels and cluster, gives addresses, and follows a newer catalogue', () => {
    const store = new RemoteCatalogues(zurichPeers());
    const dir = new CatalogueDirectory(store);
    assert.deepEqual(dir.clusters(), [], 'no catalogue yet: no cluster known');
    assert.deepEqual(dir.matching(sel({ [CLUSTER_LABEL]: 'frankfurt' })), []);

    assert.ok(store.accept(signedBytes(frankfurtContent(), FRANKFURT.privateKey)).ok);
    assert.deepEqual(dir.clusters(), ['frankfurt']);
    assert.deepEqual(dir.matching(sel({ app: 'billing', [CLUSTER_LABEL]: 'frankfurt' })), [BILLING]);
    assert.deepEqual(dir.matching(sel({ app: 'billing', [CLUSTER_LABEL]: 'zurich' })), [], 'the cluster label is the catalogue\'s cluster');
    assert.deepEqual(dir.matching(sel({ 'io.kubernetes.pod.namespace': 'media' })), [VIDEO]);
    assert.deepEqual(dir.addressesOf(BILLING), ['10.165.0.7']);
    assert.deepEqual(dir.addressesOf(VIDEO), []);

    // Generation 11 drops billing: the directory follows without being told.
    const next = frankfurtContent({ generation: 11n, identities: [{ id: VIDEO, labels: ['k8s:app=video'], addresses: ['10.165.0.8'] }] });
    assert.ok(store.accept(signedBytes(next, FRANKFURT.privateKey)).ok);
    assert.deepEqual(dir.matching(sel({ app: 'billing' })), []);
    assert.deepEqual(dir.addressesOf(VIDEO), ['10.165.0.8']);
  });

  it('gives egress no address the peer claims outside its declared pod prefixes', () => {
    const store = new RemoteCatalogues(zurichPeers());
    const dir = new CatalogueDirectory(store);
    // 10.164.0.5 is a Zurich pod, 10.166.0.9 another cluster's: Frankfurt may name neither.
    const lying = frankfurtContent({ identities: [{ id: BILLING, labels: ['k8s:app=billing'], addresses: ['10.165.0.7', '10.164.0.5', '10.166.0.9'] }] });
    assert.ok(store.accept(signedBytes(lying, FRANKFURT.privateKey)).ok);
    assert.deepEqual(dir.addressesOf(BILLING), ['10.165.0.7']);
  });

  it('a catalogue signed by another key adds nothing', () => {
    const store = new RemoteCatalogues(zurichPeers());
    const dir = new CatalogueDirectory(store);
    assert.equal(store.accept(signedBytes(frankfurtContent(), OUTSIDER.privateKey)).ok, false);
    assert.deepEqual(dir.clusters(), []);
    assert.deepEqual(dir.matching(sel({})), []);
  });
});
