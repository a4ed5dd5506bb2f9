// Time and uuid read from a response's bytes, as the fan-out merges responses undecoded.
import assert from 'node:assert/strict';
import { GetFlowsResponse } from '../../../../proto/gen/observer/observer';
import { GetFlowBatchesResponse } from '../../../../proto/gen/observer/v1/flow_history';
import { NodeState } from '../../../../proto/gen/relay/relay';
import { MAX_BATCH_RESPONSES, MalformedAnswer, splitBatch, wireFacts } from '../../../../relay/peers/wire_items';
import { flowTimeNs, makeFlow } from '../../observer/helpers';

const enc = (r: GetFlowsResponse) => Buffer.from(GetFlowsResponse.encode(r).finish());

describe('relay fan-out: responses read undecoded', () => {
  it('reads a flow response\'s time and uuid, and an event\'s time', () => {
    const f = makeFlow(7);
    assert.deepEqual(wireFacts(enc({ responseTypes: { $case: 'flow', value: f }, nodeName: 'n', time: f.time })), { timeNs: flowTimeNs(7), kind: 'flow', uuid: f.uuid, node: f.nodeName });
    // Without the response's own time, the flow's.
    assert.deepEqual(wireFacts(enc({ responseTypes: { $case: 'flow', value: f }, nodeName: '', time: undefined })), { timeNs: flowTimeNs(7), kind: 'flow', uuid: f.uuid, node: f.nodeName });
    const ev: GetFlowsResponse = { responseTypes: { $case: 'nodeStatus', value: { stateChange: NodeState.NODE_CONNECTED, nodeNames: ['x'], message: '' } }, nodeName: '', time: { seconds: 5n, nanos: 6 } };
    assert.deepEqual(wireFacts(enc(ev)), { timeNs: 5_000_000_006n, kind: 'event', uuid: '', node: '' });
    assert.equal(wireFacts(Buffer.from([0x0a, 0x05, 0x01])), undefined);
  });

  it('splits a batch into its responses\' bytes', () => {
    const rs = [1, 2, 3].map((i) => {
      const f = makeFlow(i);
      return { responseTypes: { $case: 'flow' as const, value: f }, nodeName: f.nodeName, time: f.time };
    });
    const batch = Buffer.from(GetFlowBatchesResponse.encode({ responses: rs }).finish());
    const split = splitBatch(batch);
    assert.ok(Array.isArray(split));
    assert.deepEqual(split.map((b) => GetFlowsResponse.decode(b)), rs.map((r) => GetFlowsResponse.decode(enc(r))));
    const bad = splitBatch(Buffer.from([0x0a, 0x09]));
    assert.ok(bad instanceof MalformedAnswer && /malformed/.test(bad.message));
  });

  it(`refuses a batch of more than ${MAX_BATCH_RESPONSES} responses`, () => {
    const tiny = Buffer.alloc((MAX_BATCH_RESPONSES + 1) * 2, Buffer.from([0x0a, 0x00]));
    const bad = splitBatch(tiny);
    assert.ok(bad instanceof MalformedAnswer && /more than 16384 responses/.test(bad.message), String(bad));
    assert.equal((splitBatch(tiny.subarray(2)) as Buffer[]).length, MAX_BATCH_RESPONSES);
  });
});
