import assert from 'node:assert/strict';
import { IPVersion } from '../../../../proto/gen/flow/flow';
import { matches } from './helpers';

describe('observer/filters: ip_version', () => {
  it('matches the listed IP versions', () => {
    const v6 = { IP: { source: 'fd00::1', destination: 'fd00::2', ipVersion: IPVersion.IPv6 } };
    assert.equal(matches({ ipVersion: [IPVersion.IPv6] }, v6), true);
    assert.equal(matches({ ipVersion: [IPVersion.IPv4] }, v6), false);
    assert.equal(matches({ ipVersion: [IPVersion.IPv4] }, {}), false);
  });
});
