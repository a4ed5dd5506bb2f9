import assert from 'node:assert/strict';
import { matches, rejects } from './helpers';

describe('observer/filters: country', () => {
  const flow = { scionPath: { hops: [{ country: 'CH' }, { country: 'DE' }, { country: '' }] } };
  it('matches when some hop declares a listed country, any case', () => {
    assert.equal(matches({ throughCountry: ['de'] }, flow), true);
    assert.equal(matches({ throughCountry: ['US', 'FR'] }, flow), false);
  });
  it('matches the countries of an SRv6 path\'s segment nodes too', () => {
    const srv6 = { srv6Path: { hops: [{ sid: 'fc00:0:1::1', country: 'CH' }, { sid: 'fc00:0:2::1', country: 'IT' }, { sid: 'fc00:0:9::1', country: '' }] } };
    assert.equal(matches({ throughCountry: ['it'] }, srv6), true);
    assert.equal(matches({ throughCountry: ['DE'] }, srv6), false);
    assert.equal(matches({ throughCountry: ['IT'] }, { srv6Path: { segments: ['fc00:0:2::1'] } }), false);
  });
  it('refuses anything but two letters', () => {
    rejects({ throughCountry: ['CHE'] }, /through_country/);
    rejects({ throughCountry: [''] }, /through_country/);
  });
});
