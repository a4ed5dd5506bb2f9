import assert from 'node:assert/strict';
import { CountryLookup, defaultCountryLookup, validCoordinates } from '../../../geo/country';
import { PLACES } from '../geofence/fixtures';

describe('geofence country lookup', () => {
  it('names the country of real cities from their coordinates (ISO 3166-1 alpha-2)', () => {
    const expected: Record<keyof typeof PLACES, string | undefined> = {
      zurich: 'CH',
      frankfurt: 'DE',
      amsterdam: 'NL',
      paris: 'FR',
      ashburn: 'US',
      singapore: 'SG',
      atlantic: undefined,
    };
    for (const [place, p] of Object.entries(PLACES)) {
      assert.equal(defaultCountryLookup.countryAt(p.latitude, p.longitude), expected[place as keyof typeof PLACES], place);
    }
  });

  it('answers for the ISO territory, not its sovereign state', () => {
    // Nuuk, Greenland (GL, not DK, so an EU fence does not take it for Denmark) and Hong Kong.
    assert.equal(defaultCountryLookup.countryAt(64.1814, -51.6941), 'GL');
    assert.equal(defaultCountryLookup.countryAt(22.3193, 114.1694), 'HK');
  });

  it('has no country for invalid coordinates', () => {
    for (const [lat, lon] of [
      [NaN, 8],
      [47, Infinity],
      [91, 8],
      [47, 181],
      [-90.5, 0],
    ]) {
      assert.equal(validCoordinates(lat, lon), false, `${lat},${lon}`);
      assert.equal(defaultCountryLookup.countryAt(lat, lon), undefined);
    }
    assert.equal(validCoordinates(-90, 180), true);
  });

  it('asks the coder once per distinct point, remembers misses too, and stays within its bound', () => {
    const asked: string[] = [];
    const lookup = new CountryLookup({
      max: 2,
      coder: (lon, lat) => {
        asked.push(`${lat},${lon}`);
        return lat > 0 ? 'XA' : null;
      },
    });
    assert.equal(lookup.countryAt(10, 20), 'XA');
    assert.equal(lookup.countryAt(10, 20), 'XA');
    assert.equal(lookup.countryAt(-10, 20), undefined);
    assert.equal(lookup.countryAt(-10, 20), undefined);
    assert.deepEqual(asked, ['10,20', '-10,20']);
    lookup.countryAt(11, 20);
    assert.equal(lookup.size, 2);
    // 10,20 was least recently used and has been evicted.
    lookup.countryAt(10, 20);
    assert.deepEqual(asked, ['10,20', '-10,20', '11,20', '10,20']);
  });

  it('never asks the coder about invalid coordinates', () => {
    const lookup = new CountryLookup({ coder: () => assert.fail('coder called') });
    assert.equal(lookup.countryAt(NaN, NaN), undefined);
    assert.equal(lookup.size, 0);
  });
});
