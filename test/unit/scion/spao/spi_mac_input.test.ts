import assert from 'node:assert/strict';
import { parseIA } from '../../../../scion/isdas';
import { type AuthenticatedHeader, macInputPrefix } from '../../../../scion/spao/mac_input';
import { isDrkeySpi, makeDrkeySpi, MAX_DRKEY_SPI, parseDrkeySpi } from '../../../../scion/spao/spi';

const header: AuthenticatedHeader = {
  trafficClass: 0,
  flowId: 1,
  dstIA: parseIA('65-2:0:20'),
  srcIA: parseIA('64-2:0:20'),
  dst: { kind: 'IPv4', bytes: new Uint8Array([10, 30, 0, 3]) },
  src: { kind: 'IPv4', bytes: new Uint8Array([10, 20, 0, 2]) },
  path: { type: 'Empty' },
};
const meta = (spi: number) => ({ spi, algorithm: 0, timestampSeq: 1 });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('SPAO SPI', () => {
  it('encodes T in bit 17, D in bit 16 and the protocol below, and reads them back', () => {
    const all = [
      [{ protocol: 7, type: 'as-host', direction: 'sender' }, 0x00007],
      [{ protocol: 7, type: 'as-host', direction: 'receiver' }, 0x10007],
      [{ protocol: 7, type: 'host-host', direction: 'sender' }, 0x20007],
      [{ protocol: 0xffff, type: 'host-host', direction: 'receiver' }, 0x3ffff],
    ] as const;
    for (const [fields, spi] of all) {
      assert.equal(makeDrkeySpi(fields), spi);
      assert.deepEqual(parseDrkeySpi(spi), fields);
    }
  });

  it('treats 0 as reserved and values from 2^21 as non-DRKey', () => {
    assert.equal(isDrkeySpi(0), false);
    assert.equal(isDrkeySpi(MAX_DRKEY_SPI), true);
    assert.equal(parseDrkeySpi(MAX_DRKEY_SPI + 1), undefined);
    assert.throws(() => makeDrkeySpi({ protocol: 0, type: 'as-host', direction: 'sender' }), { code: 'BAD_SPI' });
  });
});

describe('SPAO MAC input: which addresses the SPI puts in', () => {
  const addrPart = (spi: number): string => hex(macInputPrefix(header, meta(spi), 17, 0).subarray(20));
  it('AS-host, sender side: the source host only', () => {
    assert.equal(addrPart(makeDrkeySpi({ protocol: 1, type: 'as-host', direction: 'sender' })), '0a140002');
  });
  it('AS-host, receiver side: the destination host only', () => {
    assert.equal(addrPart(makeDrkeySpi({ protocol: 1, type: 'as-host', direction: 'receiver' })), '0a1e0003');
  });
  it('host-host: neither host', () => {
    assert.equal(addrPart(makeDrkeySpi({ protocol: 1, type: 'host-host', direction: 'sender' })), '');
  });
  it('a non-DRKey SPI: both ISD-ASes, destination and source host', () => {
    assert.equal(addrPart(MAX_DRKEY_SPI + 1), '0041000200000020' + '0040000200000020' + '0a1e0003' + '0a140002');
  });
  it('refuses lengths and timestamps the fields cannot hold', () => {
    assert.throws(() => macInputPrefix(header, meta(1), 17, 0x10000), { code: 'BAD_HEADER' });
    assert.throws(() => macInputPrefix(header, { ...meta(1), timestampSeq: 2 ** 48 }, 17, 0), { code: 'BAD_HEADER' });
    assert.throws(() => macInputPrefix({ ...header, flowId: 1 << 20 }, meta(1), 17, 0), { code: 'BAD_HEADER' });
    assert.throws(() => macInputPrefix(header, { ...meta(1), algorithm: 256 }, 17, 0), { code: 'BAD_HEADER' });
    assert.throws(() => macInputPrefix(header, meta(2 ** 32), 17, 0), { code: 'BAD_HEADER' });
    assert.throws(() => macInputPrefix({ ...header, path: { type: 'Bogus' } as never }, meta(1), 17, 0), { code: 'BAD_HEADER' });
  });
});
