// An export through a relay with peers (own stores): its own rows and each peer's (their
// Attest.Export with the local scope and evidence_only, so they never gather in turn)
// merged into one evidence, and one statement over it that names the relays it covers. A
// peer that cannot be reached, stalls past timeoutMs or breaks off fails the export with
// UNAVAILABLE naming it, unless the request allows an incomplete range: then the statement
// names it among the missing relays and holds what the others have.
import { status, type ChannelOptions } from '@grpc/grpc-js';
import { AttestClient, type ExportRequest } from '../../proto/gen/attest/v1/attest';
import type { PeerOptions } from '../peers/options';
import { localScope } from '../peers/scope';
import { attestRows, evidenceWindow, ownCoverage, storeRows, type EvidenceSink, type EvidenceSource, type ExportOptions, type Exported } from './export';
import { MergedRows } from './merge_rows';
import { PeerFailure, PeerRows, type PeerBounds } from './peer_rows';
import type { Coverage } from './predicate';

export interface GatherOptions extends PeerBounds {
  peers: PeerOptions;
  allowIncomplete: boolean;
  /** Every peer that failed, as it fails (for logs and metrics). */
  onPeerFailure?: (f: PeerFailure) => void;
}

/** The error the Attest service answers with. */
export class GatherError extends Error {
  readonly grpcCode = status.UNAVAILABLE;
}

function channelOptions(peers: PeerOptions): ChannelOptions {
  return peers.serverName ? { 'grpc.ssl_target_name_override': peers.serverName, 'grpc.default_authority': peers.serverName } : {};
}

/** `request` is what this relay was asked; each peer is asked the same selection. */
export async function gatherAttestation(
  store: EvidenceSource, opts: ExportOptions, request: ExportRequest, g: GatherOptions, sink: EvidenceSink,
): Promise<Exported> {
  const own = storeRows(store, opts, opts.fences);
  const peerRequest: ExportRequest = { ...request, sign: false, allowIncomplete: false, evidenceOnly: true };
  const clients = g.peers.targets.map((t) => new AttestClient(t.address, g.peers.credentials, channelOptions(g.peers)));
  const peers = g.peers.targets.map(
    (t, i) => new PeerRows(clients[i].export(peerRequest, localScope()), t, { ...g, timeoutMs: g.peers.timeoutMs, window: evidenceWindow(opts), selector: opts.selector }),
  );
  const failures = new Map<number, PeerFailure>();
  const merged = new MergedRows([own, ...peers], (i, e) => {
    if (i === 0) return false;
    const f = e instanceof PeerFailure ? e : new PeerFailure(peers[i - 1].target, 'failed', `relay ${peers[i - 1].target.name}: ${(e as Error).message}`);
    failures.set(i - 1, f);
    g.onPeerFailure?.(f);
    return g.allowIncomplete;
  });
  const coverage = (): Coverage => {
    const mine = ownCoverage(opts);
    peers.forEach((p, i) => {
      const cat = p.catalogue;
      if (failures.has(i) || !cat) return;
      mine.covered.push({ name: p.target.name, cluster: cat.relay.cluster, version: cat.relay.version, store: cat.store });
    });
    mine.missing = [...failures.entries()].sort(([a], [b]) => a - b).map(([, f]) => ({ name: f.peer.name, address: f.peer.address, reason: f.message }));
    mine.duplicates = merged.duplicates;
    return mine;
  };
  try {
    return await attestRows(merged, opts, coverage, sink);
  } catch (e) {
    if (failures.size === 0 || g.allowIncomplete) throw e;
    const named = [...failures.values()].map((f) => f.message).join('; ');
    throw new GatherError(
      `could not gather the evidence of every relay: ${named}; nothing was signed. ` +
        'Ask with allow_incomplete (cillion attest export --allow-incomplete) to sign what the other relays hold, the missing ones named in the statement',
    );
  } finally {
    for (const c of clients) c.close();
  }
}
