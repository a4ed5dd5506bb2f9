import assert from 'node:assert/strict';
import { ScionError } from '../../../../scion/errors';
import { decodeScionPathBytes, encodeScionPathBytes } from '../../../../scion/path/raw';
import type { ScionPath } from '../../../../scion/path/model';

// The two-segment test path of SCION's pkg/slayers/path/scion tests: SegLens 2,2,0; info
// fields (ConsDir 0, SegID 0x111, timestamp 0x100) and (ConsDir 1, SegID 0x222, timestamp
// 0x100); hop fields with ExpTime 63, interfaces 1/0, 3/2, 0/2, 1/0 and MAC 01..06.
const SPEC_BYTES = Buffer.from(
  '00002080' +
    '00000111' + '00000100' +
    '01000222' + '00000100' +
    '003f00010000010203040506' +
    '003f00030002010203040506' +
    '003f00000002010203040506' +
    '003f00010000010203040506',
  'hex',
);

const mac = Uint8Array.from([1, 2, 3, 4, 5, 6]);
const hop = (consIngress: number, consEgress: number) => ({ ingressAlert: false, egressAlert: false, expTime: 63, consIngress, consEgress, mac });
const SPEC_PATH: ScionPath = {
  type: 'SCION',
  meta: { currInf: 0, currHf: 0, segLens: [2, 2, 0] },
  infoFields: [
    { consDir: false, peer: false, segId: 0x111, timestamp: 0x100 },
    { consDir: true, peer: false, segId: 0x222, timestamp: 0x100 },
  ],
  hopFields: [hop(1, 0), hop(3, 2), hop(0, 2), hop(1, 0)],
};

const scionError = (code: string, offset?: number) => (e: unknown) =>
  e instanceof ScionError && e.code === code && (offset === undefined || e.offset === offset);

describe('scion/path/raw: a bare SCION path', () => {
  it('decodes the SCION test vector field by field', () => {
    assert.deepEqual(decodeScionPathBytes(SPEC_BYTES), SPEC_PATH);
  });

  it('encodes the same fields to the same bytes', () => {
    assert.deepEqual(Buffer.from(encodeScionPathBytes(SPEC_PATH)), SPEC_BYTES);
  });

  it('decodes a meta header without segments as a path without fields', () => {
    assert.deepEqual(decodeScionPathBytes(new Uint8Array(4)), { type: 'SCION', meta: { currInf: 0, currHf: 0, segLens: [0, 0, 0] }, infoFields: [], hopFields: [] });
  });

  it('rejects bytes that disagree with SegLens or a meta header that skips a segment', () => {
    assert.throws(() => decodeScionPathBytes(SPEC_BYTES.subarray(0, SPEC_BYTES.length - 1)), scionError('BAD_HDR_LEN', 0));
    assert.throws(() => decodeScionPathBytes(Buffer.concat([SPEC_BYTES, Buffer.alloc(12)])), scionError('BAD_HDR_LEN', 0));
    assert.throws(() => decodeScionPathBytes(new Uint8Array(0)), scionError('BAD_HDR_LEN'));
    assert.throws(() => decodeScionPathBytes(Buffer.from('00000080', 'hex')), scionError('BAD_PATH', 0));
  });

  it('refuses to encode a path whose fields disagree with its meta header', () => {
    assert.throws(() => encodeScionPathBytes({ ...SPEC_PATH, hopFields: SPEC_PATH.hopFields.slice(1) }), scionError('BAD_ARGUMENT'));
  });
});
