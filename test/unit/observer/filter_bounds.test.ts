import assert from 'node:assert/strict';
import { FlowFilter } from '../../../proto/gen/flow/flow';
import { checkFilterBounds } from '../../../observer/filters/bounds';
import { FilterError } from '../../../observer/filters/index';

describe('observer/filters/bounds', () => {
  const bounds = { maxFilters: 2, maxFilterValues: 5 };

  it('lets through what fits', () => {
    checkFilterBounds([FlowFilter.fromPartial({ sourceIp: ['10.0.0.1', '10.0.0.2'] })], [FlowFilter.fromPartial({ sourcePod: ['a/'], verdict: [1, 2] })], bounds);
  });

  it('refuses too many filters in either list and too many values over all of them', () => {
    const three = [0, 1, 2].map(() => FlowFilter.fromPartial({ sourcePod: ['p'] }));
    assert.throws(() => checkFilterBounds(three, [], bounds), (e: Error) => e instanceof FilterError && /3 allow filters; at most 2/.test(e.message));
    assert.throws(() => checkFilterBounds([], three, bounds), /3 deny filters; at most 2/);
    const six = [FlowFilter.fromPartial({ sourceIp: ['1', '2', '3'] }), FlowFilter.fromPartial({ destinationIp: ['4', '5', '6'] })];
    assert.throws(() => checkFilterBounds(six, [], bounds), /more than 5 filter values/);
  });

  it('counts SRv6 SIDs and path types among the values', () => {
    checkFilterBounds([FlowFilter.fromPartial({ throughSid: ['fc00:0:1::/48', 'fc00:0:2::1'], pathType: [1, 2], throughCountry: ['AT'] })], [], bounds);
    const six = FlowFilter.fromPartial({ throughSid: ['fc00:0:1::/48', 'fc00:0:2::1', 'fc00:0:3::1'], pathType: [1, 2], throughCountry: ['AT'] });
    assert.throws(() => checkFilterBounds([six], [], bounds), /more than 5 filter values/);
  });
});
