import { strict as assert } from 'node:assert';
import { Endpoint, Flow } from '../../../proto/gen/flow/flow';
import { placeLabels } from '../../../web/geo/labels';
import { BrowserBuffer } from '../../../web/shims/buffer';
import { attachmentName, AttestInputError, exportRequest } from '../../../web/api/attest';
import { workloadOf } from '../../../web/state/workload';
import { hmacText, pathKind, pathText } from '../../../web/views/path_text';
import { compileFieldMask } from '../../../observer/mask';
import { STREAM_FIELDS } from '../../../web/api/flows_request';
import { flow, srv6Flow } from './flows';
import { Srv6HmacStatus } from '../../../proto/gen/flow/flow';

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

  it('path text: the kind of path, SCION hops by ISD-AS, SRv6 segments by node (SID when unknown) with country, the HMAC outcome', () => {
    const scion = flow();
    assert.equal(pathKind(scion), 'SCION');
    assert.equal(pathText(scion), '64-2:0:20 (CH) → 64-2:0:10 (CH) → 65-2:0:10 (DE) → 65-2:0:20 (DE)');
    const srv6 = srv6Flow({ segments: ['fc00:0:1::1', 'fc00:9::1', 'fc00:0:201::200'], hmac: Srv6HmacStatus.SRV6_HMAC_MISMATCH });
    assert.equal(pathKind(srv6), 'SRv6');
    assert.equal(pathText(srv6), 'pe-zurich (CH) → fc00:9::1 → fra-node-1 (DE)');
    assert.equal(hmacText(srv6), 'MISMATCH');
    const none = Flow.fromPartial({ uuid: 'x' });
    assert.deepEqual([pathKind(none), pathText(none)], ['', '—']);
  });

  it('the live stream keeps what the views draw of an SRv6 path (hops, tenant, HMAC) and leaves its raw SRH out', () => {
    const f = srv6Flow();
    f.srv6Path!.raw = Buffer.alloc(40, 7);
    f.srv6Path!.fingerprint = 'ab'.repeat(32);
    const mask = compileFieldMask(STREAM_FIELDS);
    assert.ok(mask);
    const masked = mask(f);
    assert.equal(pathKind(masked), 'SRv6');
    assert.deepEqual(masked.srv6Path?.hops, f.srv6Path?.hops);
    assert.deepEqual([masked.srv6Path?.tenant, masked.srv6Path?.tenantId, hmacText(masked)], ['archive', 200, 'VERIFIED']);
    assert.deepEqual([masked.srv6Path?.raw.length, masked.srv6Path?.fingerprint], [0, '']);
  });
});
