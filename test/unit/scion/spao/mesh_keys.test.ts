import assert from 'node:assert/strict';
import { deriveGenericAsAs } from '../../../../scion/drkey/derive';
import { DrkeyIssuer } from '../../../../scion/drkey/level1';
import { PROTOCOL_CILLION_IDENTITY, PROTOCOL_SCMP } from '../../../../scion/drkey/protocol';
import { CILLION_SPI } from '../../../../scion/spao/cillion';
import { meshKey } from '../../../../scion/spao/mesh_keys';
import { isDrkeySpi } from '../../../../scion/spao/spi';
import { EPOCH_S, FRANKFURT, T0_S, ZURICH, zurich } from './fixture';

describe('scion/spao/mesh_keys: the mesh datapath key K_{A->B}', () => {
  it('is carried under the locally agreed SPI 0x00434c01, not a DRKey SPI', () => {
    assert.equal(CILLION_SPI, 0x00434c01);
    assert.equal(isDrkeySpi(CILLION_SPI), false);
  });

  it('is the generic AS-AS key of the Cillion protocol under K_{A,B}, for K_{A,B}\'s epoch', () => {
    const l1 = zurich.level1(FRANKFURT, T0_S);
    const k = meshKey(l1);
    assert.deepEqual(k.epoch, l1.epoch);
    assert.deepEqual(k.key, deriveGenericAsAs(PROTOCOL_CILLION_IDENTITY, l1.key));
  });

  it('differs per direction, per epoch and per destination AS', () => {
    const frankfurt = new DrkeyIssuer({ localIA: FRANKFURT, masterSecret: new Uint8Array(32).fill(8), epochSeconds: EPOCH_S });
    const hex = (k: { key: Uint8Array }) => Buffer.from(k.key).toString('hex');
    const keys = [
      meshKey(zurich.level1(FRANKFURT, T0_S)),
      meshKey(frankfurt.level1(ZURICH, T0_S)),
      meshKey(zurich.level1(FRANKFURT, T0_S, 1)),
      meshKey(zurich.level1(FRANKFURT + 1n, T0_S)),
    ].map(hex);
    assert.equal(new Set(keys).size, keys.length);
  });

  it('refuses a Level 1 key of a protocol-specific hierarchy', () => {
    const scmp = new DrkeyIssuer({ localIA: ZURICH, masterSecret: new Uint8Array(32).fill(7), epochSeconds: EPOCH_S, protocol: PROTOCOL_SCMP });
    assert.throws(() => meshKey(scmp.level1(FRANKFURT, T0_S)), { code: 'BAD_CONFIG' });
  });
});
