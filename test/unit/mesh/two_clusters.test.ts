// Two clusters exchange catalogues over loopback HTTP, then each names the other's end of a
// cross-cluster flow: Zurich the Frankfurt sender of an ingress flow (by the identity the
// packet carried), Frankfurt the Zurich destination of an egress flow (by its published
// address). The flows then pass the observe filters and carry the names into attestations.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { enrich, WorkloadEndpoints, type PathCatalog } from '../../../collector/enrich';
import { toFlow } from '../../../collector/flow';
import type { MeteredFlow } from '../../../collector/flowtable';
import { CatalogueExchange } from '../../../mesh/exchange';
import { serveCatalogue } from '../../../mesh/http';
import { allocatorListing, CataloguePublisher, withAddresses } from '../../../mesh/publisher';
import { RemoteCatalogues } from '../../../mesh/store';
import { FlowFilter, IdentityCheck, ScionPath, type DeepPartial, type Flow } from '../../../proto/gen/flow/flow';
import { flowMatcher } from '../../../observer/filters';
import { canonicalFlow } from '../../../relay/attest/canonical_flow';
import type { Identity } from '../../../identity/allocator';
import { identityLabels } from '../../../identity/labels';
import { scopedIdentity } from '../../../identity/cluster_scope';
import { parseIA } from '../../../scion/isdas';
import { FRANKFURT, frankfurtPeers, OUTSIDER, signedBytes, ZURICH, zurichPeers } from './helpers';

const ZRH_BILLING: Identity = { id: scopedIdentity(1, 256), labels: identityLabels('shop', { app: 'billing' }) };
const FRA_BILLING: Identity = { id: scopedIdentity(2, 256), labels: identityLabels('shop', { app: 'billing' }) };
const FRA_VIDEO: Identity = { id: scopedIdentity(2, 257), labels: identityLabels('media', { app: 'video' }) };

const paths: PathCatalog = {
  byId: () => undefined,
  byRaw: () => ScionPath.fromPartial({ knownToControlPlane: false }),
};

function metered(over: Partial<MeteredFlow>): MeteredFlow {
  return {
    ifindex: 1, direction: 'INGRESS_DECAP', inner: { proto: 6, srcAddr: '10.165.0.7', dstAddr: '10.164.0.5', srcPort: 40000, dstPort: 7001 }, identity: 0,
    srcIA: parseIA('65-2:0:20'), dstIA: parseIA('64-2:0:20'), pathType: 1, pathId: 0, path: new Uint8Array(0), pathTruncated: false, ingressIfid: 0, egressIfid: 0,
    firstNs: 0, lastNs: 0, packets: 1, bytes: 1, podBytes: 1, wireBytes: 2, foldedReports: 0, lostPackets: 0, lostBytes: 0, dropped: 0, tcpFlags: 0, firstTcpFlags: 0, dropReasons: 0, lastDropReason: 0, lastDropPolicyId: 0, start: true, end: 'idle', ...over,
  };
}

const matches = (f: Flow, filter: DeepPartial<FlowFilter>) => flowMatcher([FlowFilter.fromPartial(filter as FlowFilter)], [])(f);

describe('mesh: two clusters name each other\'s workloads', () => {
  const servers: Server[] = [];
  after(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  it('exchange catalogues, resolve both remote ends, filter and attest by them; a forged catalogue changes nothing', async () => {
    // Zurich publishes its pods' addresses; Frankfurt only its identities.
    const zurichPub = new CataloguePublisher({
      clusterName: 'zurich', clusterId: 1, privateKey: ZURICH.privateKey,
      listing: withAddresses(allocatorListing({ all: () => [ZRH_BILLING] }), () => [['10.164.0.5', ZRH_BILLING.id]]),
    });
    const frankfurtPub = new CataloguePublisher({ clusterName: 'frankfurt', clusterId: 2, privateKey: FRANKFURT.privateKey, listing: allocatorListing({ all: () => [FRA_BILLING, FRA_VIDEO] }) });
    const zs = await serveCatalogue(() => zurichPub.current(), '127.0.0.1', 0);
    const fs = await serveCatalogue(() => frankfurtPub.current(), '127.0.0.1', 0);
    servers.push(zs.server, fs.server);

    const atZurich = new RemoteCatalogues(zurichPeers(fs.url));
    const atFrankfurt = new RemoteCatalogues(frankfurtPeers(zs.url));
    const rounds = await Promise.all([new CatalogueExchange(zurichPeers(fs.url), atZurich).refresh(), new CatalogueExchange(frankfurtPeers(zs.url), atFrankfurt).refresh()]);
    assert.deepEqual(rounds.flat().map((r) => r.result.ok), [true, true]);

    // Zurich's node: billing-0 is local; the ingress flow's sender is Frankfurt's billing.
    const zurichPods = new WorkloadEndpoints('zurich', () => ZRH_BILLING.id);
    zurichPods.update([{ name: 'billing-0', namespace: 'shop', labels: { app: 'billing' }, namespaceLabels: {}, ip: '10.164.0.5', node: 'zrh-1' }]);
    const ctx = { nodeName: 'zrh-1', clusterName: 'zurich', realtimeOffsetNs: 0n };
    const ingress = metered({ identity: FRA_BILLING.id });
    const atZrh = toFlow(ingress, enrich(ingress, zurichPods, paths, atZurich), ctx);
    assert.deepEqual([atZrh.source?.clusterName, atZrh.source?.namespace, atZrh.source?.identity], ['frankfurt', 'shop', FRA_BILLING.id]);
    assert.deepEqual(atZrh.source?.labels, ['k8s:app=billing', 'k8s:io.kubernetes.pod.namespace=shop']);
    assert.deepEqual([atZrh.destination?.clusterName, atZrh.destination?.podName], ['zurich', 'billing-0']);
    assert.equal(atZrh.identityExtension?.clusterName, 'frankfurt');
    assert.equal(atZrh.identityExtension?.check, IdentityCheck.IDENTITY_CHECK_UNKNOWN, 'named from the claim itself, so not a check of it');
    // Without catalogues the same flow's sender is a bare number, as before.
    const unnamed = toFlow(ingress, enrich(ingress, zurichPods, paths), ctx).source;
    assert.deepEqual([unnamed?.clusterName, unnamed?.labels], ['', []]);

    assert.equal(matches(atZrh, { sourceClusterName: ['frankfurt'], sourceLabel: ['app=billing'] }), true);
    assert.equal(matches(atZrh, { sourceClusterName: ['frankfurt'], sourceLabel: ['app=video'] }), false);
    assert.equal(matches(atZrh, { sourceClusterName: ['zurich'] }), false);
    assert.equal(matches(atZrh, { destinationClusterName: ['zurich'], destinationLabel: ['app=billing'] }), true);
    const attested = canonicalFlow(atZrh);
    assert.deepEqual([attested.src.cluster, attested.src.labels], ['frankfurt', ['k8s:app=billing', 'k8s:io.kubernetes.pod.namespace=shop']]);

    // Frankfurt's node: the egress flow's destination is Zurich's billing-0, by its published address.
    const frankfurtPods = new WorkloadEndpoints('frankfurt', () => FRA_VIDEO.id);
    frankfurtPods.update([{ name: 'video-0', namespace: 'media', labels: { app: 'video' }, namespaceLabels: {}, ip: '10.165.0.9', node: 'fra-1' }]);
    const egress = metered({ direction: 'EGRESS_ENCAP', identity: FRA_VIDEO.id, inner: { proto: 6, srcAddr: '10.165.0.9', dstAddr: '10.164.0.5', srcPort: 40001, dstPort: 7001 } });
    const atFra = toFlow(egress, enrich(egress, frankfurtPods, paths, atFrankfurt), { ...ctx, nodeName: 'fra-1', clusterName: 'frankfurt' });
    assert.deepEqual([atFra.destination?.clusterName, atFra.destination?.identity, atFra.destination?.namespace], ['zurich', ZRH_BILLING.id, 'shop']);
    assert.equal(matches(atFra, { sourceClusterName: ['frankfurt'], sourceLabel: ['app=video'], destinationClusterName: ['zurich'], destinationLabel: ['app=billing'] }), true);

    // An ingress flow whose sender Zurich's catalogue of Frankfurt lists by address is checked against it.
    const lying = metered({ direction: 'INGRESS_DECAP', identity: FRA_BILLING.id, inner: { proto: 6, srcAddr: '10.164.0.5', dstAddr: '10.165.0.9', srcPort: 1, dstPort: 2 } });
    const atFra2 = toFlow(lying, enrich(lying, frankfurtPods, paths, atFrankfurt), { ...ctx, clusterName: 'frankfurt' });
    assert.equal(atFra2.identityExtension?.check, IdentityCheck.IDENTITY_MISMATCHED, 'zurich\'s address carrying frankfurt\'s identity');

    // A catalogue forged by an outsider in Frankfurt's name, or by Zurich's key for Frankfurt, is refused; names stay.
    const forged = { clusterName: 'frankfurt', clusterId: 2, generation: 2n ** 62n, identities: [{ id: FRA_BILLING.id, labels: ['k8s:app=video'] }] };
    assert.equal(atZurich.accept(signedBytes(forged, OUTSIDER.privateKey)).ok, false);
    assert.equal(atZurich.accept(signedBytes(forged, ZURICH.privateKey)).ok, false);
    assert.deepEqual(atZurich.byIdentity(FRA_BILLING.id)?.labels, FRA_BILLING.labels);
    assert.equal(atZurich.stats().refused.BAD_SIGNATURE, 2);
  });
});
