// An export through a relay with peers (own stores): its own rows and each peer's (their
// Attest.Export with the local scope and evidence_only, so they never gather in turn)
// merged into one evidence, and one statement over it that names the relays it covers. A
// peer that cannot be reached, stalls past timeoutMs or breaks off fails the export with
// UNAVAILABLE naming it, unless the request allows an incomplete range: then the statement
// names it among the missing relays and holds what the others have. A covered peer is
// named as configured (--peer); its cluster, version and store are as it reported them in
// its catalogue (nothing here can check them: a peer target carries no cluster). When the
// export's own call is cancelled (`signal`), every peer call is cancelled with it.
import { status, type ChannelOptions } from '@grpc/grpc-js';
import { AttestClient, type ExportRequest } from '../../proto/gen/attest/v1/attest';
import type { PeerOptions } from '../peers/options';
import { localScope } from '../peers/scope';
import { attestRows, evidenceWindow, ownCoverage, storeRows, type EvidenceSink, type EvidenceSource, type ExportOptions, type Exported } from './export';
import { MergedRows, MergeRefusal } from './merge_rows';
import { Cancelled } from './outbox';
import { PeerFailure, PeerRows, type PeerBounds } from './peer_rows';
import type { Coverage } from './predicate';

export interface GatherOptions extends PeerBounds {
  peers: PeerOptions;
  allowIncomplete: boolean;
  /** Every peer that failed, as it fails (for logs and metrics). */
  onPeerFailure?: (f: PeerFailure) => void;
  /** Aborted when the export's caller went away: the peers' calls are cancelled. */
  signal?: AbortSignal;
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
  const signal = g.signal;
  const merged = new MergedRows([own, ...peers], (i, e) => {
    if (i === 0 || signal?.aborted) return false;
    const t = peers[i - 1].target;
    const f = e instanceof PeerFailure ? e
      : e instanceof MergeRefusal ? new PeerFailure(t, e.kind, `relay ${t.name} (${t.address}): ${e.message}`)
        : new PeerFailure(t, 'failed', `relay ${t.name}: ${(e as Error).message}`);
    failures.set(i - 1, f);
    g.onPeerFailure?.(f);
    return g.allowIncomplete;
  }, g.maxInstantFlows);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      for (const p of peers) void p.close();
      void own.close();
      reject(new Cancelled());
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  const coverage = (): Coverage => {
    const mine = ownCoverage(opts);
    peers.forEach((p, i) => {
      const cat = p.catalogue;
      if (failures.has(i) || !cat) return;
      mine.covered.push({ name: p.target.name, cluster: cat.relay.cluster, version: cat.relay.version, store: cat.store });
    });
    mine.missing = [...failures.entries()].sort(([a], [b]) => a - b).map(([, f]) => ({ name: f.peer.name, address: f.peer.address, reason: f.message }));
    mine.duplicates = merged.duplicates;
    mine.conflicts = merged.conflicts;
    return mine;
  };
  try {
    // A merge stuck awaiting a peer or the store is left behind on cancel; its calls are cancelled.
    return await Promise.race([attestRows(merged, opts, coverage, sink), aborted]);
  } catch (e) {
    if (signal?.aborted) throw new Cancelled();
    if (failures.size === 0 || g.allowIncomplete) throw e;
    const named = [...failures.values()].map((f) => f.message).join('; ');
    throw new GatherError(
      `could not gather the evidence of every relay: ${named}; nothing was signed. ` +
        'Ask with allow_incomplete (cillion attest export --allow-incomplete) to sign what the other relays hold, the missing ones named in the statement',
    );
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    for (const c of clients) c.close();
  }
}
