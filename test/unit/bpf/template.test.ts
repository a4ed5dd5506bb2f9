import assert from 'node:assert/strict';
import { join } from 'node:path';
import { headerTemplate, ingressPathKey, processSourceHop } from '../../../bpf/template';
import { EmbeddedPathService } from '../../../controlplane/pathservice';
import { decodePacket, encodePacket } from '../../../scion/packet';
import { decodeShim, PROTO_CILLION_SHIM } from '../../../scion/shim';
import { parseIA } from '../../../scion/isdas';
import { verifyPathMacs } from '../../../scion/mac/segid';
import type { ScionPath } from '../../../scion/path/model';

const TOPOLOGY = join(__dirname, '..', '..', '..', 'examples', 'topology.yaml');
const ZRH = parseIA('64-2:0:20');
const FRA = parseIA('65-2:0:20');

describe('bpf/template', () => {
  const control = EmbeddedPathService.fromFile(TOPOLOGY, { now: () => 1_800_000_000 });
  const topology = (control as unknown as { topology: { ases: Map<bigint, { hopKey: Uint8Array }> } }).topology;
  const paths = control.pathsSync(ZRH, FRA);

  it('has core, peering and multi-segment paths to work with', () => {
    assert.ok(paths.length >= 5, `${paths.length} paths`);
    assert.ok(paths.some((p) => p.path.infoFields.some((f) => f.peer)), 'a peering path');
    assert.ok(paths.some((p) => p.path.infoFields.length === 3), 'a three-segment path');
  });

  it('processes the source hop so every later router accepts the path', () => {
    for (const cp of paths) {
      const { path, egressIfid } = processSourceHop(cp.path);
      assert.equal(egressIfid, cp.interfaces[0].ifid, cp.fingerprint);
      assert.ok(path.meta.currHf >= 1);
      const keys = cp.hopFieldAses.map((ia) => topology.ases.get(ia)?.hopKey ?? null);
      const verdicts = verifyPathMacs(path, keys, { arrival: 'link' });
      verdicts.slice(path.meta.currHf).forEach((v, i) => assert.equal(v.valid, true, `${cp.fingerprint} hop ${i + path.meta.currHf}`));
      assert.equal(cp.path.meta.currHf, 0, 'the control plane path is left as it was');
    }
  });

  it('writes a header template that decodes with scion/ once hosts and payload are in', () => {
    const cp = paths[0];
    const { path } = processSourceHop(cp.path);
    const tmpl = headerTemplate(cp.src, cp.dst, path);
    assert.equal(tmpl.length % 4, 0);
    // Fill in what the datapath fills in: hosts, the shim with the identity, an inner packet.
    const inner = Uint8Array.from([0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 164, 0, 5, 10, 165, 0, 7]);
    const pkt = new Uint8Array(tmpl.length + 8 + inner.length);
    pkt.set(tmpl);
    pkt.set([10, 165, 0, 7, 10, 164, 0, 5], 28);
    new DataView(pkt.buffer).setUint16(6, 8 + inner.length);
    pkt.set([0x10, 4, 0, 0, 0, 0, 1, 0x2c], tmpl.length);
    pkt.set(inner, tmpl.length + 8);
    const d = decodePacket(pkt);
    assert.equal(d.dstIA, FRA);
    assert.equal(d.srcIA, ZRH);
    assert.equal(d.common.nextHdr, PROTO_CILLION_SHIM);
    assert.deepEqual(d.path, path);
    assert.equal(d.extensions.length, 0);
    assert.equal(d.l4.kind, 'Raw');
    const { shim, inner: got } = decodeShim((d.l4 as { payload: Uint8Array }).payload);
    assert.deepEqual(shim, { innerProto: 4, identity: 300 });
    assert.deepEqual(Array.from(got), Array.from(inner));
    assert.deepEqual(encodePacket(d), pkt);
  });

  it('refuses a path that ends in the source AS', () => {
    const p: ScionPath = {
      type: 'SCION',
      meta: { currInf: 0, currHf: 0, segLens: [1, 0, 0] },
      infoFields: [{ consDir: true, peer: false, segId: 1, timestamp: 1 }],
      hopFields: [{ ingressAlert: false, egressAlert: false, expTime: 63, consIngress: 0, consEgress: 0, mac: new Uint8Array(6) }],
    };
    assert.throws(() => processSourceHop(p), { code: 'BAD_PATH' });
  });

  it('computes the ingress path key as FNV-1a 64 over segment lengths and hop interfaces', () => {
    const p: ScionPath = {
      type: 'SCION',
      meta: { currInf: 0, currHf: 0, segLens: [2, 0, 0] },
      infoFields: [{ consDir: true, peer: false, segId: 7, timestamp: 9 }],
      hopFields: [
        { ingressAlert: false, egressAlert: false, expTime: 63, consIngress: 0, consEgress: 5, mac: new Uint8Array(6) },
        { ingressAlert: false, egressAlert: false, expTime: 63, consIngress: 256, consEgress: 0, mac: new Uint8Array(6) },
      ],
    };
    // Computed independently: FNV-1a 64 over 02 00 00 | 00 00 00 05 | 01 00 00 00.
    assert.equal(ingressPathKey(p), 0x8a88cd002996394fn);
    // SegID, timestamps and MACs do not matter: refreshed segments keep their key.
    p.infoFields[0].segId = 99;
    p.hopFields[0].mac = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    assert.equal(ingressPathKey(p), 0x8a88cd002996394fn);
  });
});
