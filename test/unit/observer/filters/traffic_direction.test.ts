import assert from 'node:assert/strict';
import { TrafficDirection } from '../../../../proto/gen/flow/flow';
import { matches } from './helpers';

describe('observer/filters: traffic_direction', () => {
  it('matches the listed directions', () => {
    const egress = { trafficDirection: TrafficDirection.EGRESS };
    assert.equal(matches({ trafficDirection: [TrafficDirection.EGRESS] }, egress), true);
    assert.equal(matches({ trafficDirection: [TrafficDirection.INGRESS] }, egress), false);
  });
});
