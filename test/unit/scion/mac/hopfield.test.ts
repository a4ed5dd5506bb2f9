import assert from 'node:assert/strict';
import { Cmac } from '../../../../scion/mac/cmac';
import {
  fullHopFieldMac,
  hopFieldMac,
  hopFieldMacInput,
  verifyHopFieldMac,
} from '../../../../scion/mac/hopfield';
import { ScionError } from '../../../../scion/errors';
import { LINEAR_KEYS } from './captured-paths';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

describe('hop-field MAC', () => {
  it('lays out the 16-byte input as the spec table shows', () => {
    const input = hopFieldMacInput(
      { segId: 0xbeef, timestamp: 0x01020304 },
      { expTime: 0x3f, consIngress: 0x1112, consEgress: 0x2122 },
    );
    // 0 0 | SegID | Timestamp | 0 | ExpTime | ConsIngress | ConsEgress | 0 0
    assert.equal(toHex(input), '0000beef' + '01020304' + '003f1112' + '21220000');
  });

  // Hop fields from a captured packet (see captured-paths.ts): the down-segment hop of
  // 1-ff00:0:5 MACed under beta_0 = 0x4073, and the up-segment hop of 1-ff00:0:3 under 0x3f43.
  const downHop = { expTime: 63, consIngress: 0, consEgress: 2, mac: hex('a9bedad137d1') };
  const downInfo = { segId: 0x4073, timestamp: 0x61b399de };
  const upHop = { expTime: 63, consIngress: 1, consEgress: 0, mac: hex('46f593ef5038') };
  const upInfo = { segId: 0x3f43, timestamp: 0x61b399d8 };

  it('reproduces MACs that SCION control services issued', () => {
    assert.equal(toHex(hopFieldMac(LINEAR_KEYS['ff00:0:5'], downInfo, downHop)), 'a9bedad137d1');
    assert.equal(toHex(hopFieldMac(new Cmac(LINEAR_KEYS['ff00:0:3']), upInfo, upHop)), '46f593ef5038');
  });

  it('truncates the full 16-byte CMAC to its first 6 bytes', () => {
    const full = fullHopFieldMac(LINEAR_KEYS['ff00:0:5'], downInfo, downHop);
    assert.equal(full.length, 16);
    assert.equal(toHex(full.subarray(0, 6)), 'a9bedad137d1');
  });

  it('verifies the genuine MAC and rejects any single changed byte', () => {
    const key = LINEAR_KEYS['ff00:0:5'];
    assert.equal(verifyHopFieldMac(key, downInfo, downHop), true);
    for (let i = 0; i < 6; i++) {
      const mac = downHop.mac.slice();
      mac[i] ^= 0x01;
      assert.equal(verifyHopFieldMac(key, downInfo, { ...downHop, mac }), false, `byte ${i}`);
    }
  });

  it('rejects the MAC under a different key, SegID, timestamp, ExpTime or interface', () => {
    const key = LINEAR_KEYS['ff00:0:5'];
    assert.equal(verifyHopFieldMac(LINEAR_KEYS['ff00:0:6'], downInfo, downHop), false);
    assert.equal(verifyHopFieldMac(key, { ...downInfo, segId: 0x4072 }, downHop), false);
    assert.equal(verifyHopFieldMac(key, { ...downInfo, timestamp: downInfo.timestamp + 1 }, downHop), false);
    assert.equal(verifyHopFieldMac(key, downInfo, { ...downHop, expTime: 62 }), false);
    assert.equal(verifyHopFieldMac(key, downInfo, { ...downHop, consIngress: 1 }), false);
    assert.equal(verifyHopFieldMac(key, downInfo, { ...downHop, consEgress: 3 }), false);
  });

  it('rejects a MAC of the wrong length instead of comparing a prefix', () => {
    const key = LINEAR_KEYS['ff00:0:5'];
    assert.equal(verifyHopFieldMac(key, downInfo, { ...downHop, mac: downHop.mac.subarray(0, 5) }), false);
    const long = new Uint8Array(16);
    long.set(fullHopFieldMac(key, downInfo, downHop));
    assert.equal(verifyHopFieldMac(key, downInfo, { ...downHop, mac: long }), false);
  });

  it('refuses field values that do not fit their wire width', () => {
    const bad = (e: unknown): boolean => e instanceof ScionError && e.code === 'BAD_ARGUMENT';
    assert.throws(() => hopFieldMacInput({ segId: 0x10000, timestamp: 0 }, upHop), bad);
    assert.throws(() => hopFieldMacInput({ segId: 0, timestamp: 2 ** 32 }, upHop), bad);
    assert.throws(() => hopFieldMacInput(upInfo, { ...upHop, expTime: 256 }), bad);
    assert.throws(() => hopFieldMacInput(upInfo, { ...upHop, consIngress: -1 }), bad);
    assert.throws(() => hopFieldMacInput(upInfo, { ...upHop, consEgress: 0.5 }), bad);
  });
});
