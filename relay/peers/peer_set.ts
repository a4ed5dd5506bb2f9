// The relays this one answers together with: one gRPC channel each, every call in the local
// scope (scope.ts) so that the peer answers from its own data, over the peers' credentials.
import { Client, type CallOptions, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import type { GetFlowsRequest } from '../../proto/gen/observer/observer';
import { FlowHistoryService } from '../../proto/gen/observer/v1/flow_history';
import { splitBatch, type MalformedAnswer } from './wire_items';
import type { PeerOptions, PeerTarget } from './options';
import { localScope } from './scope';
import { FOLLOW_QUEUE_KEY } from '../../observer/follow_queue';

/** Peers one relay may have; each fan-out opens a stream to every one of them. */
export const MAX_PEERS = 64;

/** The largest message a peer may send (a batch is cut at 1 MiB; one flow may overshoot it). */
export const PEER_MAX_MESSAGE_BYTES = 4 << 20;
/** How often a connection to a peer with a call open is pinged. */
export const PEER_KEEPALIVE_MS = 10_000;

export class PeerConfigError extends Error {
  readonly code = 'PEER_CONFIG';
}

/** A unary Observer method as the peer set calls it. */
export interface UnaryMethod<Req, Res> {
  path: string;
  requestSerialize: (r: Req) => Buffer;
  responseDeserialize: (b: Buffer) => Res;
}

/** A relay's report name for a peer: "relay/<name>", so no one takes it for a node. */
export function relayName(name: string): string {
  return `relay/${name}`;
}

export class Peer {
  private readonly client: Client;

  constructor(
    readonly target: PeerTarget,
    opts: PeerOptions,
  ) {
    const named = opts.serverName === undefined ? {} : { 'grpc.ssl_target_name_override': opts.serverName, 'grpc.default_authority': opts.serverName };
    this.client = new Client(target.address, opts.credentials, {
      ...named,
      // History pages arrive in megabyte batches; a restarted peer is found again within seconds.
      'grpc-node.flow_control_window': 8 << 20,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2000,
      // A relay's batches are cut at 1 MiB; said here so that no default decides what one peer message may cost.
      'grpc.max_receive_message_length': PEER_MAX_MESSAGE_BYTES,
      // A peer whose network silently drops packets mid-follow is found within a ping, not when TCP gives up.
      // Pings go only while a call is open (grpc-js servers enforce no ping rate; a relay pings its peers no more often than this).
      'grpc.keepalive_time_ms': PEER_KEEPALIVE_MS,
      'grpc.keepalive_timeout_ms': opts.timeoutMs,
      'grpc.keepalive_permit_without_calls': 0,
    });
  }

  get name(): string {
    return this.target.name;
  }

  /**
   * The peer's own answer to `request` (FlowHistory/GetFlowBatches), each batch as its
   * responses' bytes or why it is refused; `followQueue`, when given, is the short follower
   * queue the caller asked for, asked of the peer too.
   */
  flows(request: GetFlowsRequest, followQueue?: number): ClientReadableStream<Buffer[] | MalformedAnswer> {
    const m = FlowHistoryService.getFlowBatches;
    const md = localScope();
    if (followQueue !== undefined) md.set(FOLLOW_QUEUE_KEY, String(followQueue));
    return this.client.makeServerStreamRequest(m.path, m.requestSerialize, (b: Buffer) => splitBatch(b), request, md);
  }

  /** One unary Observer call, ending with DEADLINE_EXCEEDED after `timeoutMs`. */
  unary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, timeoutMs: number): Promise<Res> {
    const options: CallOptions = { deadline: Date.now() + timeoutMs };
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, localScope(), options, (err: ServiceError | null, res?: Res) =>
        err || res === undefined ? reject(err ?? new Error('no response')) : resolve(res),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

export class PeerSet {
  readonly peers: Peer[];

  constructor(readonly opts: PeerOptions) {
    if (opts.targets.length > MAX_PEERS) throw new PeerConfigError(`${opts.targets.length} peers; a relay fans out to at most ${MAX_PEERS}`);
    if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 1) throw new PeerConfigError(`peer timeout ${opts.timeoutMs} ms: expected a positive number of milliseconds`);
    const names = new Set<string>();
    for (const t of opts.targets) {
      if (names.has(t.name)) throw new PeerConfigError(`two peers are named "${t.name}"`);
      names.add(t.name);
    }
    this.peers = opts.targets.map((t) => new Peer(t, opts));
  }

  get timeoutMs(): number {
    return this.opts.timeoutMs;
  }

  get sharedStore(): boolean {
    return this.opts.sharedStore;
  }

  close(): void {
    for (const p of this.peers) p.close();
  }
}
