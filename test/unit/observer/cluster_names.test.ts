// A relay's cluster naming: flows and events renamed "cluster/node" (encoded ones without
// decoding), node_name patterns of requests turned into the relay's plain names.
import assert from 'node:assert/strict';
import { FlowFilter } from '../../../proto/gen/flow/flow';
import { GetFlowsRequest, GetFlowsResponse } from '../../../proto/gen/observer/observer';
import { NodeState } from '../../../proto/gen/relay/relay';
import { ClusterNames } from '../../../observer/cluster_names';
import { flowMatcher } from '../../../observer/filters/index';
import { renameNodes } from '../../../observer/wire_names';
import { makeFlow } from './helpers';

const names = new ClusterNames('zurich');

function response(i: number, over: Parameters<typeof makeFlow>[1] = {}): GetFlowsResponse {
  const f = makeFlow(i, over);
  return { responseTypes: { $case: 'flow', value: f }, nodeName: f.nodeName, time: f.time };
}

describe('cluster names', () => {
  it('renames a flow response, encoded or not, to the same bytes', () => {
    for (const r of [response(1), response(2, { nodeName: 'node-with-a-long-name'.repeat(10) }), response(3, { nodeName: '' }), response(4, { nodeName: 'frankfurt/x' })]) {
      const encoded = Buffer.from(GetFlowsResponse.encode(r).finish());
      const spliced = renameNodes(encoded, (n) => names.node(n));
      assert.ok(spliced);
      const viaObject = Buffer.from(GetFlowsResponse.encode(names.response(r)).finish());
      assert.deepEqual(GetFlowsResponse.decode(spliced), GetFlowsResponse.decode(viaObject));
      const flow = GetFlowsResponse.decode(spliced).responseTypes;
      const want = r.nodeName === '' ? '' : r.nodeName.includes('/') ? r.nodeName : `zurich/${r.nodeName}`;
      assert.equal(flow?.$case === 'flow' ? flow.value.nodeName : undefined, want);
    }
  });

  it('renames node status events through the decoded path', () => {
    const ev: GetFlowsResponse = { responseTypes: { $case: 'nodeStatus', value: { stateChange: NodeState.NODE_CONNECTED, nodeNames: ['node-a'], message: '' } }, nodeName: '', time: undefined };
    const encoded = Buffer.from(GetFlowsResponse.encode(ev).finish());
    assert.equal(renameNodes(encoded, (n) => names.node(n)), undefined);
    const r = names.response(encoded);
    assert.deepEqual(r.responseTypes?.$case === 'nodeStatus' ? r.responseTypes.value.nodeNames : [], ['zurich/node-a']);
  });

  it('turns node_name patterns into the relay\'s plain names', () => {
    const req = (nodeName: string[]) => GetFlowsRequest.fromPartial({ whitelist: [FlowFilter.fromPartial({ nodeName })] });
    const plain = (nodeName: string[]) => names.request(req(nodeName)).whitelist[0].nodeName;
    assert.deepEqual(plain(['zurich/*', 'zur*/node-a', 'node-b']), ['*', 'node-a', 'node-b']);
    // Another cluster's pattern can match none of this relay's flows, "default" included.
    const other = names.request(req(['frankfurt/*', 'default/*']));
    const matches = flowMatcher(other.whitelist, other.blacklist);
    assert.equal(matches(makeFlow(0, { nodeName: 'node-a' })), false);
    const own = names.request(req(['zurich/node-a']));
    assert.equal(flowMatcher(own.whitelist, own.blacklist)(makeFlow(0, { nodeName: 'node-a' })), true);
  });

  it('reads a cluster part of many stars in linear time', () => {
    const long = new ClusterNames(`zurich-${'a'.repeat(50)}`);
    const t0 = Date.now();
    const req = long.request(GetFlowsRequest.fromPartial({ whitelist: [FlowFilter.fromPartial({ nodeName: [`${'*'.repeat(30)}x/node-a`, `zur*${'*a'.repeat(20)}/node-b`] })] }));
    assert.deepEqual(req.whitelist[0].nodeName, ['-/-', 'node-b']);
    assert.ok(Date.now() - t0 < 500, `took ${Date.now() - t0} ms`);
  });
});
