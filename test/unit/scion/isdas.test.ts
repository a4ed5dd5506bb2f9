import assert from 'node:assert/strict';
import { ScionError } from '../../../scion/errors';
import { formatIA, iaMatches, parseAS, parseIA, formatAS, isWildcard } from '../../../scion/isdas';

describe('scion/isdas', () => {
  it('parses and formats the hex-group form as a 64-bit value', () => {
    const ia = parseIA('1-ff00:0:110');
    assert.equal(ia, 0x0001_ff00_0000_0110n);
    assert.equal(formatIA(ia), '1-ff00:0:110');
    assert.equal(formatIA(ia, { fileFormat: true }), '1-ff00_0_110');
    assert.equal(parseIA('1-ff00_0_110'), ia);
  });

  it('uses BGP-style decimal below 2^32 and hex from 2^32 up', () => {
    assert.equal(parseIA('64-559'), (64n << 48n) | 559n);
    assert.equal(formatIA(parseIA('64-559')), '64-559');
    assert.equal(formatAS(0xffff_ffffn), '4294967295');
    assert.equal(formatAS(0x1_0000_0000n), '1:0:0');
    assert.equal(parseAS('0:0:ffff'), 0xffffn);
    assert.equal(formatIA(parseIA('1-0:0:ffff')), '1-65535');
  });

  it('treats zero ISD or AS as a wildcard', () => {
    assert.equal(isWildcard(parseIA('0-0')), true);
    assert.equal(isWildcard(parseIA('1-0')), true);
    assert.equal(iaMatches(parseIA('1-0'), parseIA('1-ff00:0:110')), true);
    assert.equal(iaMatches(parseIA('0-ff00:0:110'), parseIA('2-ff00:0:110')), true);
    assert.equal(iaMatches(parseIA('2-0'), parseIA('1-ff00:0:110')), false);
  });

  for (const bad of ['', '1', '1-', '-1', '65536-1', '1-4294967296', '1-ff00:0', '1-ff00:0:110:1', '1-fffff:0:0', '1-2-3', 'a-1', '1-0x10']) {
    it(`rejects ${JSON.stringify(bad)} with BAD_ISD_AS`, () => {
      assert.throws(() => parseIA(bad), (e: unknown) => e instanceof ScionError && e.code === 'BAD_ISD_AS');
    });
  }
});
