// The Observer and FlowHistory services of a relay with peers: a call in the local scope
// (a peer asking, or a user asking one replica alone) gets this relay's own answer; any
// other gets the whole set's (fan_flows.ts, fan_status.ts).
import type { Metadata, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { ObserverService, type GetFlowsRequest, type ObserverServer } from '../../proto/gen/observer/observer';
import type { FlowHistoryServer } from '../../proto/gen/observer/v1/flow_history';
import { BatchWriter } from '../../observer/flow_batches';
import { checkRequest, FlowResponseWriter, type ResponseSink } from '../../observer/get_flows';
import { answerFlows, localFlows, type ObserverDeps } from '../../observer/service';
import { askedFollowQueue } from '../../observer/follow_queue';
import { StallGuard } from '../../observer/stall_guard';
import { fanOutFlows, type FanOutOptions } from './fan_flows';
import { askPeers, mergeNamespaces, mergeNodes, mergeStatus, type PeerAnswer } from './fan_status';
import { relayName, type PeerSet, type UnaryMethod } from './peer_set';
import { isLocalScope } from './scope';

/** The longest a Node timer waits (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface FanOutServices {
  observer: ObserverServer;
  history: FlowHistoryServer;
}

export interface FanOutServiceOptions {
  windowMs?: number;
  onPeer?: FanOutOptions['onPeer'];
}

/** A unary answer: this relay's own, merged with every peer's (or its absence). */
function fanUnary<Req, Res>(
  local: (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void,
  peers: PeerSet,
  method: UnaryMethod<Req, Res>,
  merge: (own: Res, peers: PeerAnswer<Res>[]) => Res,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    if (isLocalScope(call.metadata)) return local(call, callback);
    const fromPeers = askPeers(peers, method, call.request);
    local(call, (err, own) => {
      if (err || own === undefined || own === null) return callback(err);
      void fromPeers.then((answers) => callback(null, merge(own, answers)));
    });
  };
}

export function fanOutServices(local: FanOutServices, deps: ObserverDeps, peers: PeerSet, opts: FanOutServiceOptions = {}): FanOutServices {
  const addresses = new Map(peers.peers.map((p) => [relayName(p.name), p.target.address]));
  // Inside a fan-out this relay's own answer waits for the merge, not for a client: the
  // answer's stall guard (below) watches the client; the live part may wait out a long history.
  const own: ObserverDeps = { ...deps, getFlows: { ...deps.getFlows, stallTimeoutMs: MAX_TIMER_MS } };
  // A shorter follower queue the caller asked for bounds this relay's own part and is asked
  // of every peer for theirs, so a viewer through the set stays as near live as through one relay.
  const fan = async (request: GetFlowsRequest, out: ResponseSink, md: Metadata): Promise<void> => {
    // As one relay would refuse it, before any peer is asked.
    checkRequest(request, deps.getFlows);
    const followQueue = askedFollowQueue(md, deps.getFlows?.followQueue ?? deps.hub.followQueue);
    const guarded = new StallGuard(out, deps.getFlows?.stallTimeoutMs ?? 30_000);
    const options: FanOutOptions = {
      peers,
      local: (req, sink) => localFlows(own, req, sink, md),
      windowMs: opts.windowMs,
      maxLastN: deps.getFlows?.maxLastN,
      historyTimeoutMs: deps.getFlows?.historyTimeoutMs,
      onPeer: opts.onPeer,
      followQueue,
    };
    try {
      await fanOutFlows(request, guarded, options);
    } catch (e) {
      if (!guarded.closed) await guarded.flush();
      throw guarded.stalled ?? e;
    }
    await guarded.flush();
  };
  return {
    observer: {
      ...local.observer,
      getFlows(call) {
        if (isLocalScope(call.metadata)) return local.observer.getFlows(call);
        answerFlows(call, deps, 'GetFlows', () => fan(call.request, new FlowResponseWriter(call), call.metadata));
      },
      serverStatus: fanUnary(local.observer.serverStatus, peers, ObserverService.serverStatus, (own, answers) => mergeStatus(own, answers, peers.sharedStore)),
      getNodes: fanUnary(local.observer.getNodes, peers, ObserverService.getNodes, (own, answers) => mergeNodes(own, answers, addresses)),
      getNamespaces: fanUnary(local.observer.getNamespaces, peers, ObserverService.getNamespaces, mergeNamespaces),
    },
    history: {
      getFlowBatches(call) {
        if (isLocalScope(call.metadata)) return local.history.getFlowBatches(call);
        answerFlows(call, deps, 'GetFlowBatches', () => fan(call.request, new BatchWriter(call), call.metadata));
      },
    },
  };
}
