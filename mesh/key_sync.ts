// Keeps the datapath's key table equal to the keys this node should hold, the way Cilium's
// reconcilers do: every round computes the desired set from scratch, then adds what is
// missing, replaces what changed and removes what nothing backs any more. A failed put or
// remove is logged and counted and simply tried again next round, key by key.
//
// Desired, for every peer B of this cluster A and for the previous (until its grace ends),
// current and next epoch:
//   tx  K_{A->B}, derived here from A's master secret (A's epochs);
//   rx  K_{B->A}, derived from the Level 1 key K_{B,A} fetched from B (B's epochs): the
//       current one when missing, the next during the prefetch period before B's switch,
//       the previous when this node starts inside its grace period.
import { Rounds } from './rounds';
import { createHash } from 'node:crypto';
import { epochContains, GRACE_PERIOD_SECONDS, inPrefetchPeriod, NS, type Epoch } from '../scion/drkey/epoch';
import { DrkeyError } from '../scion/drkey/errors';
import type { DrkeyIssuer, Level1Key } from '../scion/drkey/level1';
import { Level1Store } from '../scion/drkey/level1_store';
import { formatIA, type IA } from '../scion/isdas';
import { meshKey } from '../scion/spao/mesh_keys';
import { type KeyExchangeErrorCode, type KeyResult, zeroKeyCounts } from './key_error';
import type { DatapathKey, DatapathKeyTable } from '../bpf/key_table';
import type { MeshPeer, MeshPeers } from './peers';

export interface KeySyncOptions {
  self: { clusterName: string; ia: IA };
  /** This cluster's issuer: its master secret and epoch length. */
  issuer: DrkeyIssuer;
  peers: MeshPeers;
  table: DatapathKeyTable;
  /** K_{peer, self} for the epochs holding `validAt` (mesh/level1_client.ts fetchLevel1). */
  fetch: (peer: MeshPeer, validAt: number[]) => Promise<KeyResult<Level1Key[]>>;
  /** Unix ms. */
  now?: () => number;
  log?: (message: string) => void;
}

export interface KeySyncStats {
  rounds: number;
  installed: number;
  replaced: number;
  removed: number;
  /** put/remove/list calls that threw; each is retried next round. */
  tableErrors: number;
  /** Level 1 keys fetched from peers and taken. */
  fetched: number;
  fetchRefused: Record<KeyExchangeErrorCode, number>;
  /** Entries in the table after the last round, by direction. */
  entries: { tx: number; rx: number };
  /** Peers for which no current rx key is held (their packets cannot be verified). */
  peersWithoutRxKey: number;
}

const entryId = (peerIa: bigint, dir: 'tx' | 'rx', epochBeginNs: bigint) => `${peerIa}/${dir}/${epochBeginNs}`;
const fingerprint = (k: DatapathKey) => `${k.notAfterNs}/${k.clusterId}/${createHash('sha256').update(k.key).digest('hex')}`;

function entry(peer: MeshPeer, dir: 'tx' | 'rx', l1: Level1Key): DatapathKey {
  const { epoch, key } = meshKey(l1);
  return { peerIa: peer.ia!, dir, epochBeginNs: BigInt(epoch.begin) * NS, notAfterNs: BigInt(epoch.end + GRACE_PERIOD_SECONDS) * NS, clusterId: peer.clusterId, key };
}

const live = (e: Epoch, nowS: number) => nowS < e.end + GRACE_PERIOD_SECONDS;

export class KeySync {
  private readonly rx: Level1Store;
  private readonly now: () => number;
  private readonly log: (message: string) => void;
  /** What this process last wrote per entry, to tell a changed key from an unchanged one. */
  private readonly written = new Map<string, string>();
  private readonly logged = new Map<string, string>();
  private readonly rounds = new Rounds(() => this.refresh().catch((e: Error) => this.log(`key sync round failed: ${e.message}`)));
  private readonly counts: KeySyncStats = {
    rounds: 0,
    installed: 0,
    replaced: 0,
    removed: 0,
    tableErrors: 0,
    fetched: 0,
    fetchRefused: zeroKeyCounts(),
    entries: { tx: 0, rx: 0 },
    peersWithoutRxKey: 0,
  };

  constructor(private readonly opts: KeySyncOptions) {
    this.rx = new Level1Store(opts.self.ia);
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
  }

  /** One round: fetch the rx Level 1 keys that are due, then reconcile the table. */
  async refresh(): Promise<void> {
    for (const peer of this.peers()) {
      const due = this.due(peer, Math.floor(this.now() / 1000));
      if (due.length === 0) continue;
      const r = await this.opts.fetch(peer, due);
      if (!r.ok) {
        this.counts.fetchRefused[r.error.code]++;
        this.note(`fetch/${peer.clusterName}`, `keys of ${peer.clusterName} not fetched: ${r.error.message}`);
        continue;
      }
      this.logged.delete(`fetch/${peer.clusterName}`);
      for (const k of r.value) {
        try {
          this.rx.put(k);
          this.counts.fetched++;
        } catch (e) {
          if (!(e instanceof DrkeyError)) throw e;
          this.counts.fetchRefused.BAD_EPOCH++;
          this.note(`fetch/${peer.clusterName}`, `key of ${peer.clusterName} refused: ${e.message}`);
        }
      }
    }
    this.reconcile();
  }

  /** Makes the table match the desired set; never throws. */
  reconcile(): void {
    const nowMs = this.now();
    const nowS = Math.floor(nowMs / 1000);
    this.counts.rounds++;
    this.rx.prune(nowS);
    const desired = new Map<string, DatapathKey>();
    let withoutRx = 0;
    for (const peer of this.peers()) {
      for (const offset of [-1, 0, 1]) {
        const l1 = this.opts.issuer.level1(peer.ia!, nowS, offset);
        if (live(l1.epoch, nowS)) this.want(desired, entry(peer, 'tx', l1));
      }
      const held = this.rx.keysOf(peer.ia!).filter((k) => live(k.epoch, nowS));
      for (const l1 of held) this.want(desired, entry(peer, 'rx', l1));
      if (!held.some((k) => epochContains(k.epoch, nowS))) withoutRx++;
    }
    this.counts.peersWithoutRxKey = withoutRx;
    let listed: Omit<DatapathKey, 'key'>[];
    try {
      listed = this.opts.table.list();
    } catch (e) {
      this.counts.tableErrors++;
      this.note('list', `key table not listed: ${(e as Error).message}`);
      return;
    }
    this.logged.delete('list');
    const have = new Map(listed.map((h) => [entryId(h.peerIa, h.dir, h.epochBeginNs), h]));
    for (const [id, d] of desired) {
      const h = have.get(id);
      const fp = fingerprint(d);
      if (h && h.notAfterNs === d.notAfterNs && h.clusterId === d.clusterId && this.written.get(id) === fp) continue;
      this.apply(id, `put ${d.dir} key for ${formatIA(d.peerIa)} epoch ${d.epochBeginNs / NS}`, () => this.opts.table.put(d), () => {
        this.written.set(id, fp);
        if (h) this.counts.replaced++;
        else this.counts.installed++;
      });
    }
    for (const [id, h] of have) {
      if (desired.has(id)) continue;
      this.apply(id, `remove ${h.dir} key for ${formatIA(h.peerIa)} epoch ${h.epochBeginNs / NS}`, () => this.opts.table.remove(h.peerIa, h.dir, h.epochBeginNs), () => {
        this.written.delete(id);
        this.counts.removed++;
      });
    }
    // Forget what no longer exists anywhere, so neither map grows with the epochs.
    for (const id of this.written.keys()) if (!desired.has(id) && !have.has(id)) this.written.delete(id);
    for (const s of this.logged.keys()) if (s.startsWith('entry:') && !desired.has(s.slice(6)) && !have.has(s.slice(6))) this.logged.delete(s);
    const entries = { tx: 0, rx: 0 };
    for (const id of desired.keys()) if (this.written.has(id)) entries[desired.get(id)!.dir]++;
    this.counts.entries = entries;
  }

  stats(): KeySyncStats {
    return { ...this.counts, fetchRefused: { ...this.counts.fetchRefused }, entries: { ...this.counts.entries } };
  }

  /** Refreshes now and every `intervalMs`, never two rounds at once. */
  start(intervalMs: number): void {
    this.rounds.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }

  private peers(): MeshPeer[] {
    return this.opts.peers.list().filter((p) => p.ia !== undefined);
  }

  /** The times of `peer`'s epochs whose key is due and not held. */
  private due(peer: MeshPeer, nowS: number): number[] {
    const held = this.rx.keysOf(peer.ia!);
    const covered = (t: number) => held.some((k) => epochContains(k.epoch, t));
    const due: number[] = [];
    if (!covered(nowS)) due.push(nowS);
    if (!covered(nowS - GRACE_PERIOD_SECONDS)) due.push(nowS - GRACE_PERIOD_SECONDS);
    const current = held.find((k) => epochContains(k.epoch, nowS));
    if (current && inPrefetchPeriod(current.epoch, nowS) && !covered(current.epoch.end)) due.push(current.epoch.end);
    return due;
  }

  private want(desired: Map<string, DatapathKey>, k: DatapathKey): void {
    desired.set(entryId(k.peerIa, k.dir, k.epochBeginNs), k);
  }

  private apply(id: string, what: string, op: () => void, done: () => void): void {
    try {
      op();
    } catch (e) {
      this.counts.tableErrors++;
      this.note(`entry:${id}`, `key table: ${what} failed: ${(e as Error).message}`);
      return;
    }
    this.logged.delete(`entry:${id}`);
    done();
  }

  /** Logs a failure once per subject until it changes or clears; counting is the caller's. */
  private note(subject: string, message: string): void {
    if (this.logged.get(subject) === message) return;
    this.logged.set(subject, message);
    this.log(message);
  }
}
