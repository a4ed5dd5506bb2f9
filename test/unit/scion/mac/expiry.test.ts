import assert from 'node:assert/strict';
import {
  EXP_TIME_UNIT_SECONDS,
  expTimeFromSeconds,
  expTimeToSeconds,
  hopFieldExpiry,
  isHopFieldExpired,
} from '../../../../scion/mac/expiry';
import { ScionError } from '../../../../scion/errors';

describe('hop-field expiry', () => {
  it('uses a unit of 24h/256 = 337.5 s', () => {
    assert.equal(EXP_TIME_UNIT_SECONDS, 337.5);
  });

  it('computes Timestamp + (1 + ExpTime) * 24h/256', () => {
    assert.equal(expTimeToSeconds(0), 337.5);
    assert.equal(expTimeToSeconds(63), 6 * 3600);
    assert.equal(expTimeToSeconds(255), 86400);
    assert.equal(hopFieldExpiry(1639160280, 63), 1639160280 + 21600);
    assert.equal(hopFieldExpiry(1000, 0), 1337.5);
  });

  it('treats a hop field as expired only after its expiry instant', () => {
    assert.equal(isHopFieldExpired(1000, 0, 1337), false);
    assert.equal(isHopFieldExpired(1000, 0, 1337.5), false);
    assert.equal(isHopFieldExpired(1000, 0, 1338), true);
  });

  it('picks the largest ExpTime not exceeding a lifetime', () => {
    assert.equal(expTimeFromSeconds(337.5), 0);
    assert.equal(expTimeFromSeconds(674.9), 0);
    assert.equal(expTimeFromSeconds(21600), 63);
    assert.equal(expTimeFromSeconds(21599), 62);
    assert.equal(expTimeFromSeconds(86400), 255);
    for (let e = 0; e < 256; e++) assert.equal(expTimeFromSeconds(expTimeToSeconds(e)), e);
  });

  it('rejects values it cannot encode', () => {
    const bad = (e: unknown): boolean => e instanceof ScionError && e.code === 'BAD_ARGUMENT';
    assert.throws(() => expTimeToSeconds(256), bad);
    assert.throws(() => expTimeToSeconds(-1), bad);
    assert.throws(() => expTimeToSeconds(1.5), bad);
    assert.throws(() => expTimeFromSeconds(337), bad);
    assert.throws(() => expTimeFromSeconds(86401), bad);
    assert.throws(() => expTimeFromSeconds(Number.NaN), bad);
  });
});
