import assert from 'node:assert/strict';
import { matches, rejects } from './helpers';

describe('observer/filters: country', () => {
  const flow = { scionPath: { hops: [{ country: 'CH' }, { country: 'DE' }, { country: '' }] } };
  it('matches when some hop declares a listed country, any case', () => {
    assert.equal(matches({ throughCountry: ['de'] }, flow), true);
    assert.equal(matches({ throughCountry: ['US', 'FR'] }, flow), false);
  });
  it('refuses anything but two letters', () => {
    rejects({ throughCountry: ['CHE'] }, /through_country/);
    rejects({ throughCountry: [''] }, /through_country/);
  });
});
