import assert from 'node:assert/strict';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { FlowFilter, LostEventSource, Verdict } from '../../../proto/gen/flow/flow';
import { GetAgentEventsRequest, GetFlowsRequest, GetNamespacesRequest, type GetNamespacesResponse } from '../../../proto/gen/observer/observer';
import { FOLLOW_QUEUE_KEY } from '../../../observer/follow_queue';
import { NodeBook } from '../../../observer/nodes';
import { FlowHub } from '../../../observer/hub';
import { nsTimestamp } from '../../../observer/time';
import { until } from '../../until';
import { flowTimeNs, follow, getFlows, makeFlow, readAll, serveObserver, serverStatus, uuidOf, uuidsOf, type Served } from './helpers';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);

describe('observer/service (hub only, gRPC on loopback)', () => {
  let hub: FlowHub;
  let nodes: NodeBook;
  let served: Served;

  beforeEach(async () => {
    hub = new FlowHub({ capacity: 100 });
    nodes = new NodeBook();
    served = await serveObserver({ hub, nodes, status: () => ({ version: '9.9.9', uptimeNs: 42n }), getFlows: { untilGraceMs: 100 } });
    hub.publish(range(0, 50).map((i) => makeFlow(i)));
  });
  afterEach(() => served.close());

  it('number gives the last N, oldest first', async () => {
    const got = await readAll(getFlows(served.client, { number: 3n }));
    assert.deepEqual(uuidsOf(got), [47, 48, 49].map(uuidOf));
    assert.equal(got[0].nodeName, 'node-b');
    assert.deepEqual(got[0].time, makeFlow(47).time);
  });

  it('first gives the first N', async () => {
    const got = await readAll(getFlows(served.client, { number: 3n, first: true }));
    assert.deepEqual(uuidsOf(got), [0, 1, 2].map(uuidOf));
  });

  it('since and until bound the flows at nanosecond precision, both ends inclusive', async () => {
    const got = await readAll(getFlows(served.client, { since: nsTimestamp(flowTimeNs(3)), until: nsTimestamp(flowTimeNs(6)) }));
    assert.deepEqual(uuidsOf(got), [3, 4, 5, 6].map(uuidOf));
    const tight = await readAll(getFlows(served.client, { since: nsTimestamp(flowTimeNs(3) + 1n), until: nsTimestamp(flowTimeNs(6) - 1n) }));
    assert.deepEqual(uuidsOf(tight), [4, 5].map(uuidOf));
  });

  it('applies whitelist and blacklist with Hubble semantics', async () => {
    const got = await readAll(
      getFlows(served.client, {
        whitelist: [FlowFilter.fromPartial({ sourcePod: ['shop/'] }), FlowFilter.fromPartial({ sourceIp: ['10.0.0.2'] })],
        blacklist: [FlowFilter.fromPartial({ verdict: [Verdict.DROPPED] })],
      }),
    );
    // shop: i % 3 == 0; 10.0.0.2: i == 1; DROPPED: i % 5 == 0.
    const want = range(0, 50).filter((i) => (i % 3 === 0 || i === 1) && i % 5 !== 0);
    assert.deepEqual(uuidsOf(got), want.map(uuidOf));
  });

  it('refuses a bad filter with INVALID_ARGUMENT and keeps serving', async () => {
    await assert.rejects(readAll(getFlows(served.client, { whitelist: [FlowFilter.fromPartial({ sourceIp: ['10.0.0.300/8'] })] })), (e: ServiceError) => {
      assert.equal(e.code, status.INVALID_ARGUMENT);
      assert.match(e.details, /source_ip/);
      return true;
    });
    await assert.rejects(readAll(getFlows(served.client, { number: 1n, first: true, follow: true })), (e: ServiceError) => e.code === status.INVALID_ARGUMENT);
    await assert.rejects(readAll(getFlows(served.client, { since: nsTimestamp(flowTimeNs(5)), until: nsTimestamp(flowTimeNs(4)) })), (e: ServiceError) => e.code === status.INVALID_ARGUMENT);
    await assert.rejects(readAll(getFlows(served.client, { fieldMask: ['no_such_field'] })), (e: ServiceError) => e.code === status.INVALID_ARGUMENT);
    const got = await readAll(getFlows(served.client, { number: 1n }));
    assert.deepEqual(uuidsOf(got), [uuidOf(49)]);
  });

  it('follows: the last N, then every new flow once, in order', async () => {
    const stream = getFlows(served.client, { number: 2n, follow: true });
    const done = follow(stream, (got) => uuidsOf(got).length >= 5);
    await until('the stream to follow the hub', () => hub.followers === 1);
    hub.publish([makeFlow(50), makeFlow(51)]);
    hub.publish([makeFlow(52)]);
    const got = await done;
    assert.deepEqual(uuidsOf(got), [48, 49, 50, 51, 52].map(uuidOf));
  });

  it('follow alone starts at the present and filters live flows', async () => {
    const stream = getFlows(served.client, { follow: true, whitelist: [FlowFilter.fromPartial({ nodeName: ['node-a'] })] });
    const done = follow(stream, (got) => uuidsOf(got).length >= 2);
    await until('the stream to follow the hub', () => hub.followers === 1);
    hub.publish(range(50, 55).map((i) => makeFlow(i)));
    assert.deepEqual(uuidsOf(await done), [50, 52].map(uuidOf));
  });

  it('a follower that falls behind gets a LostEvent counting what it missed', async () => {
    await served.close();
    hub = new FlowHub({ capacity: 100, subscriberQueue: 2 });
    served = await serveObserver({ hub, nodes, status: () => ({ version: 'v', uptimeNs: 0n }) });
    const stream = getFlows(served.client, { follow: true });
    const done = follow(stream, (got) => got.some((r) => r.responseTypes?.$case === 'lostEvents'));
    await until('the stream to follow the hub', () => hub.followers === 1);
    // All offered in one tick: the stream cannot drain in between.
    hub.publish(range(100, 110).map((i) => makeFlow(i)));
    const got = await done;
    assert.deepEqual(uuidsOf(got), [100, 101].map(uuidOf));
    const lost = got[2].responseTypes;
    assert.equal(lost?.$case, 'lostEvents');
    if (lost?.$case !== 'lostEvents') return;
    assert.equal(lost.value.source, LostEventSource.HUBBLE_RING_BUFFER);
    assert.equal(lost.value.numEventsLost, 8n);
    const { res } = await serverStatus(served.client);
    assert.deepEqual(res.lostFlows.find((l) => l.reason === 'follower_queue'), { source: LostEventSource.HUBBLE_RING_BUFFER, reason: 'follower_queue', count: 8n });
  });

  it('a caller may ask for a shorter follower queue (cillion-follow-queue), never a longer one; the loss is counted the same', async () => {
    await served.close();
    hub = new FlowHub({ capacity: 100, subscriberQueue: 5 });
    served = await serveObserver({ hub, nodes, status: () => ({ version: 'v', uptimeNs: 0n }) });
    const asking = (queue: string) => {
      const md = new Metadata();
      md.set(FOLLOW_QUEUE_KEY, queue);
      return served.client.getFlows(GetFlowsRequest.fromPartial({ follow: true }), md);
    };
    const short = follow(asking('2'), (got) => got.some((r) => r.responseTypes?.$case === 'lostEvents'));
    const long = follow(asking('1000'), (got) => got.some((r) => r.responseTypes?.$case === 'lostEvents'));
    await until('both streams to follow the hub', () => hub.followers === 2);
    hub.publish(range(100, 110).map((i) => makeFlow(i)));
    const [s, l] = await Promise.all([short, long]);
    assert.deepEqual(uuidsOf(s), [100, 101].map(uuidOf), 'the asked 2');
    assert.deepEqual(uuidsOf(l), range(100, 105).map(uuidOf), "the server's 5, not the asked 1000");
    const lostOf = (got: typeof s) => got.flatMap((r) => (r.responseTypes?.$case === 'lostEvents' ? [r.responseTypes.value.numEventsLost] : []));
    assert.deepEqual([lostOf(s), lostOf(l)], [[8n], [5n]]);
    assert.equal(hub.followerLost, 13n);
    await assert.rejects(readAll(asking('0')), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /cillion-follow-queue/.test(e.details));
    await assert.rejects(readAll(asking('lots')), (e: ServiceError) => e.code === status.INVALID_ARGUMENT);
  });

  it('follow with until ends by itself once until has passed', async () => {
    const until = nsTimestamp(BigInt(Date.now() + 200) * 1_000_000n);
    const t = Date.now();
    const got = await readAll(getFlows(served.client, { follow: true, until }));
    assert.deepEqual(uuidsOf(got), []);
    assert.ok(Date.now() - t >= 200, 'stayed open until `until`');
  });

  it('applies a field mask, keeping nanoseconds', async () => {
    const got = await readAll(getFlows(served.client, { number: 1n, fieldMask: ['time', 'source.pod_name', 'uuid'] }));
    const r = got[0].responseTypes;
    assert.equal(r?.$case, 'flow');
    if (r?.$case !== 'flow') return;
    assert.deepEqual(r.value.time, makeFlow(49).time);
    assert.equal(r.value.uuid, uuidOf(49));
    assert.equal(r.value.source?.podName, 'pod-49');
    assert.equal(r.value.source?.namespace, '');
    assert.equal(r.value.destination, undefined);
    assert.equal(r.value.verdict, Verdict.VERDICT_UNKNOWN);
  });

  it('answers ServerStatus from the ring without a store', async () => {
    const { res } = await serverStatus(served.client);
    assert.equal(res.numFlows, 50n);
    assert.equal(res.maxFlows, 100n);
    assert.equal(res.seenFlows, 50n);
    assert.equal(res.version, '9.9.9');
    assert.equal(res.uptimeNs, 42n);
    assert.equal(res.numConnectedNodes, 0);
    assert.ok(Math.abs(res.flowsRate - 50 / 60) < 1e-9);
  });

  it('lists namespaces from recent flows; agent events are not provided', async () => {
    const ns = await new Promise<GetNamespacesResponse>((res, rej) => served.client.getNamespaces(GetNamespacesRequest.fromPartial({}), (e, r) => (e ? rej(e) : res(r))));
    assert.deepEqual(ns.namespaces.map((n) => `${n.cluster}/${n.namespace}`), ['c1/bank', 'c1/db', 'c1/shop']);
    await assert.rejects(
      new Promise((res, rej) => {
        const s = served.client.getAgentEvents(GetAgentEventsRequest.fromPartial({}));
        s.on('data', res);
        s.on('error', rej);
        s.on('end', res);
      }),
      (e: ServiceError) => e.code === status.UNIMPLEMENTED,
    );
  });
});
