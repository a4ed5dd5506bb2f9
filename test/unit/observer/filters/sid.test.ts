import assert from 'node:assert/strict';
import { matches, rejects } from './helpers';

describe('observer/filters: through_sid', () => {
  const flow = { srv6Path: { segments: ['fc00:0:1::1', 'fc00:0:3::1', 'fc00:0:201::100'] } };

  it('matches a segment equal to a SID, however the SID is spelled', () => {
    assert.equal(matches({ throughSid: ['fc00:0:3::1'] }, flow), true);
    assert.equal(matches({ throughSid: ['FC00:0000:0003:0000:0000:0000:0000:0001'] }, flow), true);
    assert.equal(matches({ throughSid: ['fc00:0:3::2'] }, flow), false);
  });

  it('matches a segment inside a locator prefix, and not one outside it', () => {
    assert.equal(matches({ throughSid: ['fc00:0:201::/48'] }, flow), true);
    assert.equal(matches({ throughSid: ['fc00:0:2::/48'] }, flow), false);
    assert.equal(matches({ throughSid: ['fc00:0:2::/48', 'fc00::/16'] }, flow), true);
    assert.equal(matches({ throughSid: ['::/0'] }, flow), true);
  });

  it('matches no flow without an SRv6 path, and no segment that is no address', () => {
    assert.equal(matches({ throughSid: ['::/0'] }, { scionPath: { hops: [{ isdAs: '1-ff00:0:110' }] } }), false);
    assert.equal(matches({ throughSid: ['::/0'] }, { srv6Path: { segments: ['pe-zurich', ''] } }), false);
  });

  it('refuses what is neither a SID nor a prefix, and a prefix with host bits set', () => {
    rejects({ throughSid: ['pe-zurich'] }, /through_sid: "pe-zurich" is neither/);
    rejects({ throughSid: ['10.0.0.1'] }, /through_sid/);
    rejects({ throughSid: ['fc00:0:1::1/48'] }, /host bits/);
    rejects({ throughSid: ['fc00::/129'] }, /through_sid/);
    rejects({ throughSid: [''] }, /through_sid/);
  });
});
