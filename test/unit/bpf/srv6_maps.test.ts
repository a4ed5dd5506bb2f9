// SRv6 map codecs (bpf/maps.ts) and the v3 record fields (bpf/records.ts), byte for byte
// against the generated layout of bpf/include/cillion_abi.h.
import assert from 'node:assert/strict';
import { LAYOUTS, RECORD_VERSION, REC_F_HAS_INNER, REC_PACKET, SRV6_HDR_MAX } from '../../../bpf/abi';
import { SRV6_CODECS } from '../../../bpf/codecs';
import {
  decodeLocalSid,
  decodeLocatorKey,
  decodeSrv6Seglist,
  decodeTenantKey4,
  decodeTenantKey6,
  ipv6Bytes,
  ipv6String,
  localSidValue,
  locatorKey,
  srv6Header,
  srv6SeglistValue,
  tenantKey4,
  tenantKey6,
} from '../../../bpf/maps';
import { decodeRecord, RecordError } from '../../../bpf/records';
import { parseSid } from '../../../srv6/sid';
import { encodeSrh } from '../../../srv6/srh';

const srh = Buffer.from(encodeSrh({
  nextHeader: 4, segmentsLeft: 1, lastEntry: 1, flags: 0, tag: 0,
  segments: [parseSid('fc00:0:201::100'), parseSid('fc00:0:1::1')], tlvs: [],
}));

describe('bpf/maps: SRv6 codecs', () => {
  it('srv6Header: IPv6 with next header 43, hop limit 64, the source, the active segment as destination, then the SRH', () => {
    const h = srv6Header('fc00:0:101::1', srh);
    assert.equal(h.length, 40 + srh.length);
    assert.equal(h[0], 0x60);
    assert.equal(h.readUInt16BE(4), 0, 'payload length is the datapath\'s to fill');
    assert.deepEqual([h[6], h[7]], [43, 64]);
    assert.equal(ipv6String(h, 8), 'fc00:0:101::1');
    assert.equal(ipv6String(h, 24), 'fc00:0:1::1');
    assert.deepEqual(h.subarray(40), srh);
    const bad = Buffer.from(srh);
    bad[3] = 2;
    assert.throws(() => srv6Header('fc00:0:101::1', bad), RangeError);
    assert.throws(() => srv6Header('10.0.0.1', srh), /not an IPv6 address/);
  });

  it('a segment list round-trips, and a template longer than the map holds is refused', () => {
    const v = { ifindex: 7, mtu: 1500, tenantId: 100, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', header: srv6Header('fc00:0:101::1', srh) };
    const b = srv6SeglistValue(v);
    assert.equal(b.length, LAYOUTS.cil_srv6_seglist.size);
    assert.deepEqual(decodeSrv6Seglist(b), { ...v, header: Uint8Array.from(v.header) });
    assert.throws(() => srv6SeglistValue({ ...v, header: new Uint8Array(SRV6_HDR_MAX + 8) }), RangeError);
    assert.throws(() => srv6SeglistValue({ ...v, header: new Uint8Array(60) }), RangeError);
  });

  it('local SIDs by behavior name; an unknown behavior is refused both ways', () => {
    const s = { behavior: 'End.X' as const, tenantId: 0, ifindex: 3, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' };
    assert.deepEqual(decodeLocalSid(localSidValue(s)), s);
    assert.throws(() => localSidValue({ ...s, behavior: 'End.B6' as never }), /unknown SRv6 behavior/);
    assert.throws(() => decodeLocalSid(Buffer.alloc(LAYOUTS.cil_local_sid.size)), /unknown SRv6 behavior 0/);
    assert.equal(SRV6_CODECS.srv6_local_sids.key.decode(SRV6_CODECS.srv6_local_sids.key.encode('fc00:0:1:0::1')), 'fc00:0:1::1');
  });

  it('locator and tenant keys mask host bits and count the tenant in the prefix length', () => {
    const k = locatorKey('fc00:0:1:ffff::1/48');
    assert.equal(k.readUInt32LE(0), 48);
    assert.equal(decodeLocatorKey(k), 'fc00:0:1::/48');
    assert.throws(() => locatorKey('fc00::/129'), /not an IPv6 prefix/);
    assert.throws(() => locatorKey('10.0.0.0/8'), /not an IPv6 address/);
    const t4 = tenantKey4({ tenantId: 100, prefix: '10.165.3.7/16' });
    assert.equal(t4.readUInt32LE(0), 48);
    assert.equal(t4.readUInt32BE(4), 100);
    assert.deepEqual(decodeTenantKey4(t4), { tenantId: 100, prefix: '10.165.0.0/16' });
    assert.deepEqual(decodeTenantKey6(tenantKey6({ tenantId: 200, prefix: 'fd00:165::7/64' })), { tenantId: 200, prefix: 'fd00:165::/64' });
    assert.throws(() => tenantKey4({ tenantId: 1, prefix: '10.0.0.0/33' }), /not an IPv4 prefix/);
    assert.throws(() => tenantKey4({ tenantId: 1, prefix: '10.0.0.0/x' }), /not an IPv4 prefix/);
  });
});

describe('bpf/records: v3 SRv6 fields', () => {
  const M = LAYOUTS.cil_packet_meta.fields;
  const PATH = LAYOUTS.cil_packet_record.fields.path.offset;

  function record(edit: (b: Buffer) => void): Buffer {
    const b = Buffer.alloc(LAYOUTS.cil_packet_record.size);
    b[0] = REC_PACKET;
    b[1] = RECORD_VERSION;
    b.writeUInt16LE(b.length, 2);
    b[M.direction.offset] = 2;
    b[M.verdict.offset] = 1;
    edit(b);
    return b;
  }

  it('decodes path kind, tenant, outer addresses, the SRH and an IPv6 inner packet', () => {
    const b = record((r) => {
      r[M.path_kind.offset] = 1;
      r[M.path_type.offset] = 4;
      r.writeUInt32LE(100, M.tenant_id.offset);
      ipv6Bytes('fc00:0:101::1').copy(r, M.outer_src.offset);
      ipv6Bytes('fc00:0:201::100').copy(r, M.outer_dst.offset);
      r[M.flags.offset] = REC_F_HAS_INNER;
      r[M.ip_version.offset] = 6;
      r[M.inner_proto.offset] = 17;
      ipv6Bytes('fd00:164::5').copy(r, M.src_addr.offset);
      ipv6Bytes('fd00:165::7').copy(r, M.dst_addr.offset);
      r.writeUInt16LE(srh.length, M.path_len.offset);
      srh.copy(r, PATH);
    });
    const rec = decodeRecord(b, 0, b.length);
    assert.equal(rec.pathKind, 'srv6');
    assert.equal(rec.pathType, 4);
    assert.equal(rec.tenantId, 100);
    assert.equal(rec.outerSrc, 'fc00:0:101::1');
    assert.equal(rec.outerDst, 'fc00:0:201::100');
    assert.equal(rec.inner?.srcAddr, 'fd00:164::5');
    assert.equal(rec.inner?.dstAddr, 'fd00:165::7');
    assert.deepEqual(Buffer.from(rec.path), srh);
  });

  it('a SCION record has path kind scion and empty outer addresses; an unknown path kind is a BAD_FIELD', () => {
    const scion = decodeRecord(record(() => undefined), 0, LAYOUTS.cil_packet_record.size);
    assert.equal(scion.pathKind, 'scion');
    assert.deepEqual([scion.outerSrc, scion.outerDst, scion.tenantId], ['', '', 0]);
    const bad = record((r) => {
      r[M.path_kind.offset] = 7;
    });
    assert.throws(() => decodeRecord(bad, 0, bad.length), (e: unknown) => e instanceof RecordError && e.code === 'BAD_FIELD');
  });
});
