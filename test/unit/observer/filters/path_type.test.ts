import assert from 'node:assert/strict';
import { WanPathType } from '../../../../proto/gen/flow/flow';
import { matches, rejects } from './helpers';

describe('observer/filters: path_type', () => {
  const scion = { pathType: WanPathType.WAN_PATH_SCION };
  const srv6 = { pathType: WanPathType.WAN_PATH_SRV6 };

  it('matches the listed kinds of WAN path only', () => {
    assert.equal(matches({ pathType: [WanPathType.WAN_PATH_SRV6] }, srv6), true);
    assert.equal(matches({ pathType: [WanPathType.WAN_PATH_SRV6] }, scion), false);
    assert.equal(matches({ pathType: [WanPathType.WAN_PATH_SCION, WanPathType.WAN_PATH_SRV6] }, scion), true);
    assert.equal(matches({ pathType: [WanPathType.WAN_PATH_TYPE_UNKNOWN] }, {}), true);
    assert.equal(matches({ pathType: [WanPathType.WAN_PATH_TYPE_UNKNOWN] }, srv6), false);
  });

  it('refuses a number that is no WAN path type', () => {
    rejects({ pathType: [3 as WanPathType] }, /path_type: 3 is no WAN path type/);
    rejects({ pathType: [WanPathType.UNRECOGNIZED] }, /path_type: -1/);
  });
});
