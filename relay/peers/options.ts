// What a relay knows of the other relays it answers together with: replicas of its own
// cluster and relays of federated clusters. A call that one relay makes to another carries
// the local scope (scope.ts), so the callee answers from its own data and never fans out again.
import type { ChannelCredentials } from '@grpc/grpc-js';

export interface PeerTarget {
  /** The peer's relay name (its --name), as reports and attestations name it. */
  name: string;
  /** host:port of the peer's gRPC listener. */
  address: string;
}

export interface PeerOptions {
  targets: PeerTarget[];
  /** mTLS with a certificate holding the peer role, or insecure on loopback. */
  credentials: ChannelCredentials;
  /** TLS server name the peers' certificates are checked against, when their address is no name in them. */
  serverName?: string;
  /** How long a peer may take to answer (or to send its next item) before it is reported unavailable. */
  timeoutMs: number;
  /**
   * The replicas share one ClickHouse: history comes from the store directly and only live
   * streams fan out. Federated relays of other clusters never share it.
   */
  sharedStore: boolean;
}
