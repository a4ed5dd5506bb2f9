import assert from 'node:assert/strict';
import { GeofenceVerdict } from '../../../../proto/gen/flow/flow';
import { matches, rejects } from './helpers';

describe('observer/filters: geofence', () => {
  const flow = { geofence: { verdict: GeofenceVerdict.GEOFENCE_VIOLATION, name: 'eu-only', namespace: 'billing' } };
  it('matches verdicts', () => {
    assert.equal(matches({ geofenceVerdict: [GeofenceVerdict.GEOFENCE_VIOLATION] }, flow), true);
    assert.equal(matches({ geofenceVerdict: [GeofenceVerdict.GEOFENCE_COMPLIANT] }, flow), false);
    assert.equal(matches({ geofenceVerdict: [GeofenceVerdict.GEOFENCE_VERDICT_UNKNOWN] }, {}), false);
  });
  it('matches names with or without namespace', () => {
    assert.equal(matches({ geofenceName: ['eu-only'] }, flow), true);
    assert.equal(matches({ geofenceName: ['billing/eu-only'] }, flow), true);
    assert.equal(matches({ geofenceName: ['shop/eu-only'] }, flow), false);
    assert.equal(matches({ geofenceName: ['ch-only'] }, flow), false);
  });
  it('refuses malformed names', () => {
    rejects({ geofenceName: ['a/b/c'] }, /geofence_name/);
    rejects({ geofenceName: ['/x'] }, /geofence_name/);
  });
});
