// Cillion's additions survive the generated code, and a reader that knows only Hubble's
// schema (protobuf-es over Hubble's fields, a second protobuf implementation) reads the
// Hubble part of the same bytes, skips ours, and passes them on untouched.
import assert from 'node:assert/strict';
import { fromBinary, fromJson, toBinary, toJson } from '@bufbuild/protobuf';
import type { DescMessage, FileRegistry } from '@bufbuild/protobuf';
import { Flow, GeofenceVerdict, Verdict } from '../../../proto/gen/flow/flow';
import { GetFlowsRequest, GetFlowsResponse } from '../../../proto/gen/observer/observer';
import { compile } from './descriptor';
import { hubbleOnly, message } from './hubble-view';
import { hubbleJson, sample } from './sample-flow';

describe('proto: Cillion additions to flow.Flow', () => {
  let hubble: FileRegistry;
  let hubbleFlow: DescMessage;
  let hubbleResponse: DescMessage;
  before(() => {
    hubble = hubbleOnly(compile(['observer/observer.proto']));
    hubbleFlow = message(hubble, 'flow.Flow');
    hubbleResponse = message(hubble, 'observer.GetFlowsResponse');
  });

  it('round-trips path, geofence and identity data through the generated code', () => {
    const bytes = Flow.encode(sample).finish();
    assert.deepEqual(Flow.decode(bytes), sample);
  });

  it('lets a Hubble-only reader decode the Hubble fields of a GetFlows response', () => {
    const bytes = GetFlowsResponse.encode({
      responseTypes: { $case: 'flow', value: sample },
      nodeName: 'zrh-node-1',
      time: sample.time,
    }).finish();
    const decoded = fromBinary(hubbleResponse, bytes);
    assert.deepEqual(toJson(hubbleResponse, decoded, { registry: hubble }), {
      flow: hubbleJson,
      nodeName: 'zrh-node-1',
      time: '2026-01-01T00:00:00.000005Z',
    });
  });

  it('leaves our fields to a Hubble-only reader as unknown fields, which it passes on intact', () => {
    const decoded = fromBinary(hubbleFlow, Flow.encode(sample).finish());
    assert.deepEqual(decoded.$unknown?.map((u) => u.no), [200001, 200002, 200003, 200004, 200005]);
    assert.deepEqual(Flow.decode(toBinary(hubbleFlow, decoded)), sample);
  });

  it('reads a flow that a Hubble-only writer produced', () => {
    const written = toBinary(hubbleFlow, fromJson(hubbleFlow, hubbleJson, { registry: hubble }));
    const flow = Flow.decode(written);
    assert.deepEqual(flow, { ...sample, scionPath: undefined, geofence: undefined, identityExtension: undefined, scionObservationPoint: 0, meter: undefined });
  });

  it('keeps Hubble filter fields readable next to Cillion path filters', () => {
    const hubbleRequest = message(hubble, 'observer.GetFlowsRequest');
    const bytes = GetFlowsRequest.encode(GetFlowsRequest.fromPartial({
      number: 20n,
      follow: true,
      whitelist: [{ sourcePod: ['shop/checkout-'], throughCountry: ['US'], geofenceVerdict: [GeofenceVerdict.GEOFENCE_VIOLATION] }],
      blacklist: [{ verdict: [Verdict.DROPPED], srcIa: ['1-0'] }],
    })).finish();
    assert.deepEqual(toJson(hubbleRequest, fromBinary(hubbleRequest, bytes), { registry: hubble }), {
      number: '20',
      follow: true,
      whitelist: [{ sourcePod: ['shop/checkout-'] }],
      blacklist: [{ verdict: ['DROPPED'] }],
    });
  });
});
