import assert from 'node:assert/strict';
import { LostEventSource } from '../../../proto/gen/flow/flow';
import { NodeState } from '../../../proto/gen/relay/relay';
import { flowList } from '../../../observer/live';
import { encodeFlowResponse, FlowHub, type LiveItem, type Subscription } from '../../../observer/hub';
import { GetFlowsResponse } from '../../../proto/gen/observer/observer';
import { makeFlow } from './helpers';

/** A follower's next item as the client receives it. */
const take = (sub: Subscription): GetFlowsResponse | undefined => {
  const q = sub.take();
  return q === undefined ? undefined : response(q);
};
const response = (q: LiveItem): GetFlowsResponse => (q.flow ? GetFlowsResponse.decode(q.wire) : q.response);

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);

describe('observer/hub', () => {
  it('keeps the last `capacity` flows, oldest first, and counts every flow seen', () => {
    const hub = new FlowHub({ capacity: 5 });
    hub.publish(range(0, 3).map((i) => makeFlow(i)));
    assert.deepEqual(hub.recent().map((f) => f.source?.podName), ['pod-0', 'pod-1', 'pod-2']);
    hub.publish(range(3, 12).map((i) => makeFlow(i)));
    assert.deepEqual(hub.recent().map((f) => f.source?.podName), ['pod-7', 'pod-8', 'pod-9', 'pod-10', 'pod-11']);
    assert.equal(hub.size, 5);
    assert.equal(hub.seen, 12n);
  });

  it('queues for a follower only what its filter accepts, plus lost and node events', () => {
    const hub = new FlowHub();
    const sub = hub.subscribe({ filter: (f) => f.nodeName === 'node-a' });
    hub.publish(range(0, 4).map((i) => makeFlow(i)));
    hub.publishLost(LostEventSource.PERF_EVENT_RING_BUFFER, 7n, 'node-b');
    hub.publishLost(LostEventSource.PERF_EVENT_RING_BUFFER, 0n, 'node-b');
    hub.publishNodeStatus({ stateChange: NodeState.NODE_UNAVAILABLE, nodeNames: ['node-b'], message: '' });
    const kinds = [];
    for (let r = take(sub); r; r = take(sub)) {
      const t = r.responseTypes;
      if (t?.$case === 'flow') kinds.push(t.value.source?.podName);
      else if (t?.$case === 'lostEvents') kinds.push(`lost ${t.value.numEventsLost} from ${r.nodeName} (${t.value.source})`);
      else kinds.push(t?.$case);
    }
    assert.deepEqual(kinds, ['pod-0', 'pod-2', `lost 7 from node-b (${LostEventSource.PERF_EVENT_RING_BUFFER})`, 'nodeStatus']);
  });

  it('bounds a slow follower: overflow becomes one LostEvent that keeps counting', () => {
    const hub = new FlowHub({ subscriberQueue: 3 });
    const sub = hub.subscribe();
    hub.publish(range(0, 10).map((i) => makeFlow(i)));
    assert.equal(sub.size, 4);
    assert.equal(take(sub)?.responseTypes?.$case, 'flow');
    // One slot free again: the next flow is queued after the LostEvent, a new loss starts a new one.
    hub.publish([makeFlow(10), makeFlow(11)]);
    const rest = [];
    for (let r = take(sub); r; r = take(sub)) {
      const t = r.responseTypes;
      rest.push(t?.$case === 'flow' ? t.value.source?.podName : t?.$case === 'lostEvents' ? `lost ${t.value.numEventsLost}` : '?');
    }
    assert.deepEqual(rest, ['pod-1', 'pod-2', 'lost 7', 'pod-10', 'lost 1']);
    assert.equal(sub.lost, 8n);
    assert.equal(hub.followerLost, 8n);
  });

  it('bounds a follower by the encoded bytes it holds as well as by flows', () => {
    const one = encodeFlowResponse(makeFlow(0)).length;
    const hub = new FlowHub({ subscriberQueue: 1000, subscriberQueueBytes: one * 2 });
    const sub = hub.subscribe();
    hub.publish(range(0, 5).map((i) => makeFlow(i)));
    const got = [];
    for (let r = take(sub); r; r = take(sub)) got.push(r.responseTypes?.$case === 'flow' ? 'flow' : r.responseTypes?.$case === 'lostEvents' ? `lost ${r.responseTypes.value.numEventsLost}` : '?');
    assert.deepEqual(got, ['flow', 'flow', 'lost 3']);
    hub.publish([makeFlow(5)]);
    assert.equal(take(sub)?.responseTypes?.$case, 'flow', 'taking flows frees their bytes');
  });

  it('queues a flow as its encoded response: once for every follower shown it whole, apart for one with a field mask', () => {
    const hub = new FlowHub();
    const [x, y] = [hub.subscribe(), hub.subscribe()];
    const masked = hub.subscribe({ mask: (f) => ({ ...f, source: undefined }) });
    const f = makeFlow(3);
    hub.publish([f]);
    const [qx, qy, qm] = [x.take(), y.take(), masked.take()];
    assert.ok(qx?.flow && qy?.flow && qm?.flow);
    assert.equal(qx.wire, qy.wire, 'one encoding shared');
    assert.equal(qx.uuid, f.uuid);
    const whole = response(qx);
    assert.equal(whole.responseTypes?.$case === 'flow' && whole.responseTypes.value.source?.podName, 'pod-3');
    assert.equal(whole.nodeName, f.nodeName);
    const shown = response(qm);
    assert.ok(shown.responseTypes?.$case === 'flow' && shown.responseTypes.value.source === undefined);
    assert.equal(shown.responseTypes.value.uuid, f.uuid);
  });

  it('next() waits for a flow and ends when the follower is closed', async () => {
    const hub = new FlowHub();
    const sub = hub.subscribe();
    const waiting = sub.next().then((q) => q && response(q));
    hub.publish([makeFlow(1)]);
    assert.equal((await waiting)?.responseTypes?.$case, 'flow');
    const ended = sub.next();
    assert.equal(hub.followers, 1);
    hub.closeFollowers();
    assert.equal(await ended, undefined);
    assert.equal(hub.followers, 0);
  });

  it('tracks batches on their way until stored and published, and queues their live unstored flows for a follower about to read history', () => {
    const hub = new FlowHub();
    const [a, b] = [makeFlow(1), makeFlow(2)];
    const batch = flowList([a, b]);
    hub.expect(batch);
    assert.ok(hub.isPending(a.uuid) && hub.isPending(b.uuid));
    hub.publishRefs([batch], Uint32Array.of(0), 1);
    assert.ok(!hub.isPending(a.uuid) && hub.isPending(b.uuid), 'a is live, b still to come');
    const follower = hub.subscribe();
    follower.track();
    assert.equal(follower.size, 1, 'the flow already live but not stored is queued, the one not yet published is not');
    assert.ok(follower.hasQueued(a.uuid) && !follower.hasQueued(b.uuid));
    hub.settle(batch);
    assert.ok(hub.isPending(b.uuid), 'stored, but its live copy is still to come');
    const late = hub.subscribe();
    late.track();
    assert.equal(late.size, 0, 'a stored flow is history, not queued again');
    hub.publishRefs([batch], Uint32Array.of(1), 1);
    assert.ok(!hub.isPending(b.uuid));
  });

  it('remembers queued uuids only while tracking', () => {
    const hub = new FlowHub();
    const sub = hub.subscribe();
    hub.publish([makeFlow(1)]);
    sub.track();
    hub.publish([makeFlow(2)]);
    assert.ok(sub.hasQueued(makeFlow(1).uuid) && sub.hasQueued(makeFlow(2).uuid));
    sub.untrack();
    assert.ok(!sub.hasQueued(makeFlow(2).uuid));
  });

  it('reports the rate over the last minute', () => {
    let now = 1_000_000;
    const hub = new FlowHub({ now: () => now });
    hub.publish(range(0, 30).map((i) => makeFlow(i)));
    now += 30_000;
    hub.publish(range(0, 30).map((i) => makeFlow(i)));
    assert.equal(hub.flowsRate(), 1);
    now += 40_000;
    assert.equal(hub.flowsRate(), 0.5);
    now += 30_000;
    assert.equal(hub.flowsRate(), 0);
  });
});
