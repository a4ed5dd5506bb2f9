// ServerStatus, GetNodes and GetNamespaces for a relay and its peers together: each peer is
// asked in the local scope with the peer timeout as its deadline, so a dead or stalled peer
// delays the answer by at most that; a peer that does not answer is reported by name
// ("relay/<name>") among the unavailable nodes.
import { NodeState } from '../../proto/gen/relay/relay';
import type { FlowHolder, GetNamespacesResponse, GetNodesResponse, LossCounter, LostFlows, Namespace, Node, ServerStatusResponse } from '../../proto/gen/observer/observer';
import { FLOW_HOLDER_NAMES } from '../../observer/service';
import { relayName, type PeerSet, type UnaryMethod } from './peer_set';

const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 0xffff_ffff;
/** The longest text a peer's flow holder may give for what happens at capacity. */
const AT_CAPACITY_CHARS = 200;

// Peers' figures add up within their wire types: a peer that sends the maximum of every
// field saturates the sum instead of making the merged answer one that cannot be encoded.
const add64 = (a: bigint, b: bigint): bigint => (a + b > U64_MAX ? U64_MAX : a + b);
const add32 = (a: number, b: number): number => Math.min(U32_MAX, a + b);

export interface PeerAnswer<T> {
  name: string;
  answer?: T;
  error?: string;
}

/** Every peer's answer to one unary call, or why there is none, within the peer timeout. */
export async function askPeers<Req, Res>(peers: PeerSet, method: UnaryMethod<Req, Res>, request: Req): Promise<PeerAnswer<Res>[]> {
  return Promise.all(
    peers.peers.map(async (p) => {
      try {
        return { name: relayName(p.name), answer: await p.unary(method, request, peers.timeoutMs) };
      } catch (e) {
        const err = e as { code?: number; details?: string; message?: string };
        return { name: relayName(p.name), error: err.details ?? err.message ?? String(e) };
      }
    }),
  );
}

function sumLost(all: LostFlows[][]): LostFlows[] {
  const out = new Map<string, LostFlows>();
  for (const list of all) {
    for (const l of list) {
      const key = `${l.source}/${l.reason}`;
      const had = out.get(key);
      out.set(key, had ? { ...had, count: add64(had.count, l.count) } : { ...l });
    }
  }
  return [...out.values()];
}

function sumLoss(all: LossCounter[][]): LossCounter[] {
  const out = new Map<string, LossCounter>();
  for (const list of all) {
    for (const c of list) {
      const key = `${c.where}/${c.name}`;
      const had = out.get(key);
      out.set(key, had ? { ...had, count: add64(had.count, c.count) } : { ...c });
    }
  }
  return [...out.values()];
}

/**
 * The set's status: counts summed over the relays that answered; the others unavailable.
 * Over a shared store every replica counts the same stored flows: they are counted once.
 */
export function mergeStatus(own: ServerStatusResponse, peers: PeerAnswer<ServerStatusResponse>[], sharedStore = false): ServerStatusResponse {
  const answered = [own, ...peers.flatMap((p) => (p.answer ? [p.answer] : []))];
  const missing = peers.filter((p) => !p.answer).map((p) => p.name);
  const unavailable = [...answered.flatMap((s) => s.unavailableNodes), ...missing];
  return {
    ...own,
    numFlows: sharedStore ? own.numFlows : answered.reduce((n, s) => add64(n, s.numFlows), 0n),
    // A maximum only when every relay has one (a relay with a store has none).
    maxFlows: answered.some((s) => s.maxFlows === 0n) ? 0n : answered.reduce((n, s) => add64(n, s.maxFlows), 0n),
    seenFlows: answered.reduce((n, s) => add64(n, s.seenFlows), 0n),
    numConnectedNodes: answered.reduce((n, s) => add32(n, s.numConnectedNodes ?? 0), 0),
    numUnavailableNodes: unavailable.length,
    unavailableNodes: unavailable,
    flowsRate: answered.reduce((n, s) => n + s.flowsRate, 0),
    lostFlows: sumLost(answered.map((s) => s.lostFlows)),
    loss: sumLoss(answered.map((s) => s.loss)),
    fingerprintMismatches: answered.flatMap((s) => s.fingerprintMismatches),
    flowHolders: sumHolders(answered.map((s) => s.flowHolders), sharedStore),
  };
}

/**
 * Each kind of flow holder summed over the relays: held, capacity and full events add up,
 * except that a store's capacity of 0 (no fixed maximum) on any relay leaves none for the
 * set, and a shared store's flows are counted once. A relay with no collector reporting has
 * flow tables of capacity 0 that simply add nothing.
 */
function sumHolders(all: FlowHolder[][], sharedStore: boolean): FlowHolder[] {
  const out = new Map<string, FlowHolder>();
  for (const list of all) {
    for (const h of list) {
      // A holder this relay does not know is no figure it can vouch for: left out.
      if (!FLOW_HOLDER_NAMES.has(h.name)) continue;
      const had = out.get(h.name);
      if (!had) {
        out.set(h.name, { ...h, atCapacity: h.atCapacity.slice(0, AT_CAPACITY_CHARS) });
        continue;
      }
      const once = sharedStore && h.name === 'store';
      out.set(h.name, {
        ...had,
        held: once ? had.held : add64(had.held, h.held),
        capacity: h.name === 'store' && (had.capacity === 0n || h.capacity === 0n) ? 0n : add64(had.capacity, h.capacity),
        fullEvents: once ? had.fullEvents : add64(had.fullEvents, h.fullEvents),
        nodes: add32(had.nodes, h.nodes),
      });
    }
  }
  return [...out.values()];
}

/** Every relay's nodes; a peer that did not answer is listed as an unavailable node "relay/<name>". */
export function mergeNodes(own: GetNodesResponse, peers: PeerAnswer<GetNodesResponse>[], addresses: Map<string, string>): GetNodesResponse {
  const byName = new Map<string, Node>();
  for (const n of [...own.nodes, ...peers.flatMap((p) => p.answer?.nodes ?? [])]) {
    const had = byName.get(n.name);
    // A node that moved between replicas (collector failover) is shown once, connected where it is.
    if (!had || (had.state !== NodeState.NODE_CONNECTED && n.state === NodeState.NODE_CONNECTED)) byName.set(n.name, n);
  }
  for (const p of peers) {
    if (p.answer) continue;
    byName.set(p.name, {
      name: p.name,
      version: '',
      address: addresses.get(p.name) ?? '',
      state: NodeState.NODE_UNAVAILABLE,
      tls: undefined,
      uptimeNs: 0n,
      numFlows: 0n,
      maxFlows: 0n,
      seenFlows: 0n,
    });
  }
  return { nodes: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)) };
}

export function mergeNamespaces(own: GetNamespacesResponse, peers: PeerAnswer<GetNamespacesResponse>[]): GetNamespacesResponse {
  const seen = new Map<string, Namespace>();
  for (const ns of [...own.namespaces, ...peers.flatMap((p) => p.answer?.namespaces ?? [])]) seen.set(`${ns.cluster}/${ns.namespace}`, ns);
  return { namespaces: [...seen.values()].sort((a, b) => a.cluster.localeCompare(b.cluster) || a.namespace.localeCompare(b.namespace)) };
}
