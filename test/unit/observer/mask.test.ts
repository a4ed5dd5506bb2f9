// The field mask's two ways (directly over nested messages, or through JSON for paths into a
// oneof) give the same flow as picking the fields from the whole one by hand.
import assert from 'node:assert/strict';
import { Flow } from '../../../proto/gen/flow/flow';
import { compileFieldMask, FieldMaskError } from '../../../observer/mask';

const whole = Flow.fromPartial({
  time: { seconds: 1_700_000_000n, nanos: 123_456_789 },
  uuid: 'u-1',
  nodeName: 'zurich/node-1',
  ethernet: { source: '00:11:22:33:44:55', destination: '66:77:88:99:aa:bb' },
  l4: { protocol: { $case: 'TCP', value: { sourcePort: 40_000, destinationPort: 443 } } },
  source: { namespace: 'shop', podName: 'billing-1', labels: ['k8s:app=billing'] },
  scionPath: { srcIa: '64-2:0:1', hops: [{ isdAs: '64-2:0:1', country: 'CH', geo: { latitude: 47.3, longitude: 8.5, address: 'Zurich' } }], raw: Buffer.from([1, 2, 3]) },
});

describe('observer/mask', () => {
  it('keeps only the asked fields, nested ones inside a default message', () => {
    const mask = compileFieldMask(['time', 'uuid', 'source', 'scion_path.hops', 'l4']);
    assert.ok(mask);
    const got = mask(whole);
    assert.deepEqual(
      Flow.encode(got).finish(),
      Flow.encode(Flow.fromPartial({ time: whole.time, uuid: 'u-1', source: whole.source, l4: whole.l4, scionPath: { hops: whole.scionPath?.hops } })).finish(),
    );
    assert.equal(got.ethernet, undefined);
    assert.equal(got.scionPath?.raw.length, 0);
    assert.equal(got.scionPath?.srcIa, '');
    assert.equal(mask(Flow.fromPartial({ uuid: 'u-2' })).scionPath, undefined, 'no path stays no path');
  });

  it('goes through JSON for a path into a oneof, with the same result', () => {
    const mask = compileFieldMask(['uuid', 'l4.TCP']);
    assert.ok(mask);
    const got = mask(whole);
    assert.equal(got.uuid, 'u-1');
    assert.deepEqual(got.l4, whole.l4);
    assert.equal(got.source, undefined);
  });

  it('refuses a path that names no Flow field', () => {
    assert.throws(() => compileFieldMask(['no_such.field']), FieldMaskError);
  });
});
