import assert from 'node:assert/strict';
import { GRACE_PERIOD_SECONDS, NS } from '../../../../scion/drkey/epoch';
import { cmacSubkeys } from '../../../../scion/mac/cmac';
import { MESH_SPI, meshKey } from '../../../../scion/spao/mesh_keys';
import { decodePeerRecord, encodePeerRecord, PEER_VALUE_LEN, receiverPeerKeys } from '../../../../scion/spao/peer_map';
import { FRANKFURT, frankfurtStore, T0_S, ZURICH, zurich } from './fixture';

describe('SPAO per-peer key records for the datapath', () => {
  const peers = receiverPeerKeys(frankfurtStore());

  it('gives the receiving node, per peer AS, the keys the sender derives', () => {
    assert.equal(peers.length, 1);
    assert.equal(peers[0].srcIA, ZURICH);
    assert.equal(peers[0].spi, MESH_SPI);
    const senderSide = [-1, 0, 1].map((o) => meshKey(zurich.level1(FRANKFURT, T0_S, o)));
    assert.deepEqual(peers[0].keys, senderSide);
  });

  it('lays out the record as the C struct in peer_map.ts says', () => {
    const { key, value } = encodePeerRecord(peers[0]);
    assert.equal(key.length, 8);
    assert.equal(key.readBigUInt64LE(0), ZURICH);
    assert.equal(value.length, PEER_VALUE_LEN);
    assert.equal(PEER_VALUE_LEN, 200);
    assert.equal(value.readUInt32LE(0), MESH_SPI);
    assert.equal(value.readUInt32LE(4), 3);
    const cur = peers[0].keys[1];
    const at = 8 + 64;
    assert.equal(value.readBigUInt64LE(at), BigInt(cur.epoch.begin) * NS);
    assert.equal(value.readBigUInt64LE(at + 8), BigInt(cur.epoch.end + GRACE_PERIOD_SECONDS) * NS);
    assert.deepEqual(new Uint8Array(value.subarray(at + 16, at + 32)), cur.key);
    const { k1, k2 } = cmacSubkeys(cur.key);
    assert.deepEqual(new Uint8Array(value.subarray(at + 32, at + 48)), k1);
    assert.deepEqual(new Uint8Array(value.subarray(at + 48, at + 64)), k2);
  });

  it('reads back what it wrote, with unused slots zero', () => {
    const two = { ...peers[0], keys: peers[0].keys.slice(1) };
    const rec = encodePeerRecord(two);
    assert.deepEqual(decodePeerRecord(rec), two);
    assert.ok(rec.value.subarray(8 + 2 * 64).every((b) => b === 0));
  });

  it('refuses more epochs than slots and records of the wrong size', () => {
    assert.throws(() => encodePeerRecord({ ...peers[0], keys: [...peers[0].keys, peers[0].keys[0]] }), { code: 'BAD_CONFIG' });
    assert.throws(() => decodePeerRecord({ key: Buffer.alloc(8), value: Buffer.alloc(199) }), { code: 'BAD_CONFIG' });
  });
});
