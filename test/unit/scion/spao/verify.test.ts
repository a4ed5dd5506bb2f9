import assert from 'node:assert/strict';
import { NS } from '../../../../scion/drkey/epoch';
import { decodePacket, encodePacket, type SpaoOption } from '../../../../scion/packet';
import { ReplayWindow } from '../../../../scion/spao/replay_window';
import { sealSpao } from '../../../../scion/spao/seal';
import { makeDrkeySpi } from '../../../../scion/spao/spi';
import { type SpaoVerdict, SpaoVerifier } from '../../../../scion/spao/verify';
import { AS_HOST_SPI, asHostKey, EPOCH_S, FRANKFURT, frankfurtStore, RECEIVER_NODE, sealedPacket, T0_NS, T0_S, unsealedPacket, ZURICH, zurich, impostor } from './fixture';

function verifier(nowNs: bigint, store = frankfurtStore()): { v: SpaoVerifier; clock: { now: bigint } } {
  const clock = { now: nowNs };
  const v = new SpaoVerifier({
    spi: AS_HOST_SPI,
    replay: new ReplayWindow(),
    keys: (q) => store.keysOf(q.srcIA).map((l1) => asHostKey(l1, RECEIVER_NODE)),
    nowNs: () => clock.now,
  });
  return { v, clock };
}

function reason(v: SpaoVerdict): string {
  return v.ok ? 'ACCEPTED' : v.reason;
}

/** Re-encodes `bytes` after `edit` changed its decoded form (the authenticator is kept as is). */
function edited(bytes: Uint8Array, edit: (p: ReturnType<typeof decodePacket>) => void): Uint8Array {
  const p = decodePacket(bytes);
  edit(p);
  return encodePacket(p);
}

describe('SPAO verification between two mesh clusters', () => {
  it('accepts a sealed packet and names its epoch and send time', () => {
    const send = T0_NS + 123n;
    const { v } = verifier(send + 2_000_000n);
    const got = v.verify(sealedPacket(send));
    assert.ok(got.ok, reason(got));
    assert.equal(got.absTimeNs, send);
    assert.deepEqual(got.key.epoch, zurich.epochAt(T0_S));
    assert.equal(got.packet.srcIA, ZURICH);
  });

  it('drops the second copy of a packet as REPLAYED, and counts each outcome', () => {
    const { v } = verifier(T0_NS);
    const bytes = sealedPacket(T0_NS - 1000n);
    assert.equal(reason(v.verify(bytes)), 'ACCEPTED');
    assert.equal(reason(v.verify(bytes)), 'REPLAYED');
    assert.equal(v.stats().ACCEPTED, 1);
    assert.equal(v.stats().REPLAYED, 1);
    assert.equal(v.stats().BAD_MAC, 0);
  });

  it('drops a changed payload (where the identity must travel), source host, flow id or hop field as BAD_MAC', () => {
    const { v } = verifier(T0_NS);
    const bytes = sealedPacket(T0_NS);
    const payload = new Uint8Array(bytes);
    payload[payload.length - 1] ^= 1;
    assert.equal(reason(v.verify(payload)), 'BAD_MAC');
    assert.equal(reason(v.verify(edited(bytes, (p) => (p.src = { kind: 'IPv4', bytes: new Uint8Array([10, 20, 0, 9]) })))), 'BAD_MAC');
    assert.equal(reason(v.verify(edited(bytes, (p) => (p.common.flowId = 8)))), 'BAD_MAC');
    assert.equal(reason(v.verify(edited(bytes, (p) => (p.path.type === 'SCION' ? (p.path.hopFields[1].consIngress = 3) : undefined)))), 'BAD_MAC');
    // The original still verifies: the forgeries did not touch the replay window.
    assert.equal(reason(v.verify(bytes)), 'ACCEPTED');
  });

  it('does not cover extension options: a rewritten identity option 253 still verifies (spec: extensions are not protected)', () => {
    const { v } = verifier(T0_NS);
    const withIdentity = (identity: number): Uint8Array => {
      const p = unsealedPacket(T0_NS);
      const data = new Uint8Array(4);
      new DataView(data.buffer).setUint32(0, identity);
      p.extensions[0].options.unshift({ kind: 'Raw', type: 253, data }, { kind: 'PadN', type: 1, data: new Uint8Array(0) });
      return encodePacket(p);
    };
    const key = asHostKey(zurich.level1(FRANKFURT, T0_S), RECEIVER_NODE).key;
    const sealed = sealSpao(withIdentity(0x0101_0100), key);
    // The option is the first in the end-to-end header: its 4 data bytes follow the SCION
    // header, the extension's NextHdr/ExtLen and the option's type/length.
    const forged = new Uint8Array(sealed);
    const at = sealed[5]! * 4 + 2 + 2;
    forged.set([0x02, 0x02, 0x01, 0x00], at);
    assert.notDeepEqual(decodePacket(forged).extensions, decodePacket(sealed).extensions);
    assert.equal(reason(v.verify(forged)), 'ACCEPTED');
  });

  it('drops a packet sealed with a key from another master secret as BAD_MAC', () => {
    const { v } = verifier(T0_NS);
    assert.equal(reason(v.verify(sealedPacket(T0_NS, impostor))), 'BAD_MAC');
  });

  it('accepts a packet whose mutable path fields changed on the way (CurrHF, SegID, router alerts)', () => {
    const { v } = verifier(T0_NS);
    const moved = edited(sealedPacket(T0_NS), (p) => {
      if (p.path.type !== 'SCION') throw new Error('want a SCION path');
      p.path.meta.currHf = 1;
      p.path.infoFields[0].segId ^= 0xbeef;
      p.path.hopFields[1].ingressAlert = true;
    });
    assert.equal(reason(v.verify(moved)), 'ACCEPTED');
  });

  it('drops a packet sent outside the acceptance window as STALE, past or future', () => {
    const { v } = verifier(T0_NS);
    assert.equal(reason(v.verify(sealedPacket(T0_NS - 151n * NS))), 'STALE');
    assert.equal(reason(v.verify(sealedPacket(T0_NS + 151n * NS))), 'STALE');
    assert.equal(reason(v.verify(sealedPacket(T0_NS - 149n * NS))), 'ACCEPTED');
  });

  it('accepts the previous epoch key inside the grace period and refuses it after', () => {
    const boundary = BigInt(zurich.epochAt(T0_S).end) * NS;
    const store = frankfurtStore(T0_S);
    // Sealed with the old epoch's key by a sender whose clock had not switched yet.
    const old = zurich.level1(FRANKFURT, T0_S);
    const sealWithOld = (sendNs: bigint): Uint8Array => {
      const key = asHostKey(old, RECEIVER_NODE);
      const p = unsealedPacket(sendNs);
      const spao = p.extensions[0].options[0] as SpaoOption;
      spao.timestampSeq = Number(sendNs - BigInt(old.epoch.begin) * NS);
      return sealSpao(encodePacket(p), key.key);
    };
    const inGrace = verifier(boundary + 3n * NS, store).v.verify(sealWithOld(boundary + 2n * NS));
    assert.ok(inGrace.ok, reason(inGrace));
    assert.deepEqual(inGrace.key.epoch, old.epoch);
    const late = verifier(boundary + 7n * NS, store).v.verify(sealWithOld(boundary + 6n * NS));
    assert.equal(reason(late), 'STALE');
  });

  it('drops a packet without SPAO as MISSING', () => {
    const p = unsealedPacket(T0_NS);
    p.extensions = [];
    assert.equal(reason(verifier(T0_NS).v.verify(encodePacket(p))), 'MISSING');
  });

  it('drops another SPI as BAD_SPI and another algorithm as UNSUPPORTED_ALGORITHM', () => {
    const { v } = verifier(T0_NS);
    const withOption = (change: Partial<SpaoOption>): Uint8Array => {
      const p = unsealedPacket(T0_NS);
      Object.assign(p.extensions[0].options[0], change);
      return encodePacket(p);
    };
    const receiverSide = makeDrkeySpi({ protocol: 0xc111, type: 'as-host', direction: 'receiver' });
    assert.equal(reason(v.verify(withOption({ spi: receiverSide }))), 'BAD_SPI');
    assert.equal(reason(v.verify(withOption({ spi: 0x0300_0000 }))), 'BAD_SPI');
    assert.equal(reason(v.verify(withOption({ algorithm: 1 }))), 'UNSUPPORTED_ALGORITHM');
    assert.equal(reason(v.verify(withOption({ authenticator: new Uint8Array(8) }))), 'MALFORMED');
  });

  it('drops a packet from an AS it holds no key of as NO_KEY, and garbage as MALFORMED', () => {
    const { v } = verifier(T0_NS);
    assert.equal(reason(v.verify(edited(sealedPacket(T0_NS), (p) => (p.srcIA = FRANKFURT)))), 'NO_KEY');
    assert.equal(reason(v.verify(sealedPacket(T0_NS).subarray(0, 40))), 'MALFORMED');
    assert.equal(reason(v.verify(new Uint8Array(0))), 'MALFORMED');
  });

  it('drops rather than throws when a held key is not 16 bytes', () => {
    const bad = new SpaoVerifier({
      spi: AS_HOST_SPI,
      replay: new ReplayWindow(),
      keys: () => [{ epoch: zurich.epochAt(T0_S), key: new Uint8Array(5) }],
      nowNs: () => T0_NS,
    });
    assert.equal(reason(bad.verify(sealedPacket(T0_NS))), 'NO_KEY');
  });

  it('keeps verifying across a rotation once the store holds the next epoch', () => {
    const next = BigInt(zurich.epochAt(T0_S, 1).begin) * NS + 10n * NS;
    const store = frankfurtStore(T0_S);
    const { v, clock } = verifier(T0_NS, store);
    assert.equal(reason(v.verify(sealedPacket(T0_NS))), 'ACCEPTED');
    clock.now = next;
    assert.equal(reason(v.verify(sealedPacket(next))), 'ACCEPTED');
    // Two epochs on, without a fetch, frankfurt has no key that fits.
    clock.now = next + BigInt(EPOCH_S) * NS;
    assert.equal(reason(v.verify(sealedPacket(clock.now))), 'STALE');
  });
});
