import { strict as assert } from 'node:assert';
import { Endpoint, Flow } from '../../../proto/gen/flow/flow';
import { placeLabels } from '../../../web/geo/labels';
import { BrowserBuffer } from '../../../web/shims/buffer';
import { attachmentName, AttestInputError, exportRequest } from '../../../web/api/attest';
import { workloadOf } from '../../../web/state/workload';

describe('web: small pieces', () => {
  it('AS labels of one city do not overlap, and a lone label stays beside its dot', () => {
    const boxes = placeLabels([[100, 100, '64-2:0:10'], [101, 100, '64-2:0:20'], [100, 101, '64-2:0:21'], [400, 300, '66-2:0:10']]);
    for (let i = 0; i < 3; i++)
      for (let j = i + 1; j < 3; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        assert.ok(a.y + a.h <= b.y || b.y + b.h <= a.y || a.x + a.w <= b.x || b.x + b.w <= a.x, `labels ${i} and ${j} overlap`);
      }
    assert.deepEqual({ x: boxes[3].x, y: boxes[3].y }, { x: 408, y: 285 });
  });

  it('the Buffer stand-in carries a bytes field through the generated fromJSON and toJSON', () => {
    const g = globalThis as { Buffer: unknown };
    const node = g.Buffer;
    g.Buffer = BrowserBuffer;
    try {
      const f = Flow.fromJSON({ scionPath: { raw: 'AAEC/w==' } });
      assert.deepEqual([...(f.scionPath?.raw ?? [])], [0, 1, 2, 255]);
      assert.equal((Flow.toJSON(f) as { scionPath: { raw: string } }).scionPath.raw, 'AAEC/w==');
    } finally {
      g.Buffer = node;
    }
  });

  it('the attestation request: since/until as observe parses them, until defaulting to now, signed by the relay', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    const r = exportRequest('1h', '', 'app=analytics', now);
    assert.deepEqual(r.since, { seconds: BigInt(now.getTime() / 1000 - 3600), nanos: 0 });
    assert.deepEqual(r.until, { seconds: BigInt(now.getTime() / 1000), nanos: 0 });
    assert.equal(r.selector, 'app=analytics');
    assert.equal(r.sign, true);
    assert.throws(() => exportRequest('last week', '', '', now), AttestInputError);
    assert.equal(attachmentName('attachment; filename="attestation-zurich-relay-a-b.tar"'), 'attestation-zurich-relay-a-b.tar');
    assert.equal(attachmentName(null), 'attestation.tar');
  });

  it('workloads: app label first, then workload, pod without its replica suffix, reserved names; cluster from the node', () => {
    const flow = Flow.fromPartial({ nodeName: 'zurich/zrh-node-1' });
    const ep = (e: Partial<Endpoint>) => Endpoint.fromPartial(e);
    assert.deepEqual(workloadOf(ep({ namespace: 'shop', labels: ['k8s:app=billing'], podName: 'x-1' }), flow, ''), { cluster: 'zurich', namespace: 'shop', workload: 'billing' });
    assert.equal(workloadOf(ep({ namespace: 'shop', workloads: [{ name: 'checkout', kind: 'Deployment' }] }), flow, '').workload, 'checkout');
    assert.equal(workloadOf(ep({ namespace: 'shop', podName: 'checkout-7d9f8c6b5-x2x4z' }), flow, '').workload, 'checkout');
    assert.deepEqual(workloadOf(ep({ labels: ['reserved:world'] }), Flow.fromPartial({}), 'frankfurt'), { cluster: 'frankfurt', namespace: '(reserved)', workload: 'world' });
    assert.equal(workloadOf(ep({ clusterName: 'frankfurt', namespace: 'db', labels: ['k8s:app=replication'] }), flow, '').cluster, 'frankfurt');
  });
});
