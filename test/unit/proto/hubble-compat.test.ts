import assert from 'node:assert/strict';
import { ObserverService } from '../../../proto/gen/observer/observer';
import { compile, enumRows, fieldRows, messageNames, methodRows } from './descriptor';
import type { Compiled, FieldRow } from './descriptor';
import { HUBBLE_ENUMS, HUBBLE_FIELDS, HUBBLE_METHODS } from './hubble-schema';

const PACKAGES = ['flow', 'observer', 'relay'];
const ADDED_RANGE = { min: 200000, max: 299999 };
// Types Cillion adds to Hubble's packages; anything else new there is a mistake.
const ADDED_MESSAGES = ['flow.ScionPath', 'flow.ScionHop', 'flow.GeoCoordinates', 'flow.Geofence', 'flow.SecurityIdentityExtension', 'flow.FlowMeter', 'flow.Srv6Path', 'flow.Srv6Hop', 'flow.Srv6Hmac', 'observer.LostFlows', 'observer.LossCounter', 'observer.FingerprintMismatches', 'observer.FlowHolder'];
const ADDED_ENUMS = ['flow.ScionPathType', 'flow.ScionObservationPoint', 'flow.GeofenceVerdict', 'flow.GeofenceMode', 'flow.IdentityCheck', 'flow.WanPathType', 'flow.Srv6HmacStatus'];

const key = (msg: string, name: string): string => `${msg}.${name}`;

describe('proto: Hubble compatibility of flow, observer and relay', () => {
  let ours: Compiled;
  let ourFields: FieldRow[];
  let ourByName: Map<string, FieldRow>;
  before(() => {
    ours = compile(['observer/observer.proto']);
    ourFields = fieldRows(ours, PACKAGES);
    ourByName = new Map(ourFields.map((r) => [key(r[0], r[1]), r]));
  });
  const hubbleNames = new Set(HUBBLE_FIELDS.map((r) => key(r[0], r[1])));
  const hubbleMessages = new Set(HUBBLE_FIELDS.map((r) => r[0]));

  it('has every Hubble field with Hubble’s name, number and type', () => {
    const missing = HUBBLE_FIELDS.filter((r) => !ourByName.has(key(r[0], r[1])));
    assert.deepEqual(missing, []);
    assert.deepEqual(HUBBLE_FIELDS.map((r) => ourByName.get(key(r[0], r[1]))), HUBBLE_FIELDS);
  });

  it('adds fields to Hubble messages only in 200000-299999, apart from every Hubble number', () => {
    const hubbleNumbers = new Map<string, Set<number>>();
    for (const [msg, , n] of HUBBLE_FIELDS) hubbleNumbers.set(msg, (hubbleNumbers.get(msg) ?? new Set()).add(n));
    const added = ourFields.filter((r) => hubbleMessages.has(r[0]) && !hubbleNames.has(key(r[0], r[1])));
    assert.deepEqual(
      [...new Set(added.map((r) => r[0]))].sort(),
      ['flow.Flow', 'flow.FlowFilter', 'observer.ServerStatusResponse'],
    );
    for (const [msg, name, n] of added) {
      assert.ok(n >= ADDED_RANGE.min && n <= ADDED_RANGE.max, `${msg}.${name} = ${n} is outside Cillion's range`);
      assert.ok(!hubbleNumbers.get(msg)?.has(n), `${msg}.${name} = ${n} collides with Hubble`);
    }
  });

  it('defines no message or enum in Hubble’s packages beyond Hubble’s and the listed additions', () => {
    const extraMessages = messageNames(ours, PACKAGES).filter((m) => !hubbleMessages.has(m));
    // Hubble messages without fields (requests) do not appear in the field table.
    const emptyHubble = ['observer.ServerStatusRequest', 'observer.GetNodesRequest', 'observer.GetNamespacesRequest', 'observer.GetFlowsRequest.Experimental'];
    assert.deepEqual(extraMessages.filter((m) => !emptyHubble.includes(m)).sort(), [...ADDED_MESSAGES].sort());
    const hubbleEnums = new Set(HUBBLE_ENUMS.map((r) => r[0]));
    const extraEnums = [...new Set(enumRows(ours, PACKAGES).map((r) => r[0]))].filter((e) => !hubbleEnums.has(e));
    assert.deepEqual(extraEnums.sort(), [...ADDED_ENUMS].sort());
  });

  it('has exactly Hubble’s values in Hubble’s enums', () => {
    const hubbleEnums = new Set(HUBBLE_ENUMS.map((r) => r[0]));
    const ourValues = enumRows(ours, PACKAGES).filter((r) => hubbleEnums.has(r[0]));
    const sort = (rows: readonly (readonly [string, string, number])[]) => [...rows].sort((a, b) => key(a[0], a[1]).localeCompare(key(b[0], b[1])));
    assert.deepEqual(sort(ourValues), sort(HUBBLE_ENUMS));
  });

  it('serves Hubble’s RPCs with Hubble’s request and response types', () => {
    assert.deepEqual(methodRows(ours, PACKAGES), HUBBLE_METHODS);
  });

  it('generates grpc-js paths a Hubble client calls', () => {
    const paths = Object.values(ObserverService).map((m) => m.path).sort();
    assert.deepEqual(paths, HUBBLE_METHODS.map((m) => `/${m[0]}/${m[1]}`).sort());
    assert.equal(ObserverService.getFlows.responseStream, true);
    assert.equal(ObserverService.getFlows.requestStream, false);
  });
});
