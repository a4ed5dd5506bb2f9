// The key sync against an in-memory key table: the golden sequence of what is installed
// across both clusters' epoch switches (tx on zurich's hour-long epochs, rx on frankfurt's
// two-hour ones), the reconciler's add/replace/remove and per-key retries, refused fetches
// installing nothing, and both clusters' syncs agreeing on the key through the real HTTP
// exchange.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { GRACE_PERIOD_SECONDS, NS } from '../../../scion/drkey/epoch';
import { DrkeyIssuer, type Level1Key } from '../../../scion/drkey/level1';
import { formatIA, parseIA } from '../../../scion/isdas';
import { meshKey } from '../../../scion/spao/mesh_keys';
import { serveCatalogue } from '../../../mesh/http';
import { refuseKey, type KeyResult } from '../../../mesh/key_error';
import { KeySync } from '../../../mesh/key_sync';
import type { DatapathKey, DatapathKeyTable } from '../../../bpf/key_table';
import { fetchLevel1 } from '../../../mesh/level1_client';
import { Level1Server } from '../../../mesh/level1_server';
import { type MeshPeer, MeshPeers } from '../../../mesh/peers';
import { FRANKFURT, ZURICH } from './helpers';

const ZRH_IA = parseIA('64-2:0:20');
const FRA_IA = parseIA('65-2:0:20');
/** A multiple of both epoch lengths: both clusters switch here. */
const E = 1_780_005_600;
const zurichIssuer = new DrkeyIssuer({ localIA: ZRH_IA, masterSecret: new Uint8Array(32).fill(7), epochSeconds: 3600 });
const frankfurtIssuer = new DrkeyIssuer({ localIA: FRA_IA, masterSecret: new Uint8Array(32).fill(8), epochSeconds: 7200 });
const frankfurtPeer: MeshPeer = { clusterName: 'frankfurt', clusterId: 2, ia: FRA_IA, publicKey: FRANKFURT.publicKey };
const zurichPeers = new MeshPeers([frankfurtPeer], { clusterName: 'zurich', clusterId: 1, ia: ZRH_IA });

/** The datapath table as a map; `fail` makes chosen calls throw, as a full or missing BPF map would. */
class MemoryKeyTable implements DatapathKeyTable {
  readonly entries = new Map<string, DatapathKey>();
  fail: (op: 'list' | 'put' | 'remove', k?: Omit<DatapathKey, 'key'>) => boolean = () => false;
  list(): Omit<DatapathKey, 'key'>[] {
    if (this.fail('list')) throw new Error('map not pinned');
    return [...this.entries.values()].map(({ key: _key, ...rest }) => rest);
  }
  put(k: DatapathKey): void {
    if (this.fail('put', k)) throw new Error('map full');
    this.entries.set(`${k.peerIa}/${k.dir}/${k.epochBeginNs}`, { ...k, key: new Uint8Array(k.key) });
  }
  remove(peerIa: bigint, dir: 'tx' | 'rx', epochBeginNs: bigint): void {
    if (this.fail('remove')) throw new Error('map busy');
    this.entries.delete(`${peerIa}/${dir}/${epochBeginNs}`);
  }
  /** "dir peer begin..notAfter" in seconds from E, sorted. */
  golden(): string[] {
    return [...this.entries.values()]
      .map((k) => `${k.dir} ${formatIA(k.peerIa)} c${k.clusterId} ${Number(k.epochBeginNs / NS) - E}..${Number(k.notAfterNs / NS) - E}`)
      .sort();
  }
}

/** Frankfurt's honest answer: one key per epoch holding a time asked, as its server gives. */
function frankfurtAnswers(calls: number[][]) {
  return async (_peer: MeshPeer, validAt: number[]): Promise<KeyResult<Level1Key[]>> => {
    calls.push(validAt.map((t) => t - E));
    const byEpoch = new Map<number, Level1Key>();
    for (const t of validAt) {
      const k = frankfurtIssuer.level1(ZRH_IA, t);
      byEpoch.set(k.epoch.begin, k);
    }
    return { ok: true, value: [...byEpoch.values()] };
  };
}

function zurichSync(table: DatapathKeyTable, clock: { s: number }, fetch = frankfurtAnswers([]), log?: (m: string) => void) {
  return new KeySync({ self: { clusterName: 'zurich', ia: ZRH_IA }, issuer: zurichIssuer, peers: zurichPeers, table, fetch, now: () => clock.s * 1000, log });
}

describe('mesh/key_sync: the datapath key table across epochs', () => {
  it('installs tx and rx keys for the previous (in grace), current and next epochs: golden sequence', async () => {
    const table = new MemoryKeyTable();
    const clock = { s: E + 100 };
    const calls: number[][] = [];
    const sync = zurichSync(table, clock, frankfurtAnswers(calls));
    const steps: Array<[number, string[], number[][]]> = [
      // Mid-epoch: zurich's current and next tx; frankfurt's current rx (not yet in its prefetch period).
      [100, ['rx 65-2:0:20 c2 0..7205', 'tx 65-2:0:20 c2 0..3605', 'tx 65-2:0:20 c2 3600..7205'], [[100, 95]]],
      // Zurich switched 2 s ago: its previous tx key stays through the grace period, the one after next comes in.
      [3602, ['rx 65-2:0:20 c2 0..7205', 'tx 65-2:0:20 c2 0..3605', 'tx 65-2:0:20 c2 3600..7205', 'tx 65-2:0:20 c2 7200..10805'], []],
      [3606, ['rx 65-2:0:20 c2 0..7205', 'tx 65-2:0:20 c2 3600..7205', 'tx 65-2:0:20 c2 7200..10805'], []],
      // 30 minutes before frankfurt's switch: its next key is fetched and installed ahead.
      [5400, ['rx 65-2:0:20 c2 0..7205', 'rx 65-2:0:20 c2 7200..14405', 'tx 65-2:0:20 c2 3600..7205', 'tx 65-2:0:20 c2 7200..10805'], [[7200]]],
      // Both switched 3 s ago: both previous keys are in their grace period.
      [7203, ['rx 65-2:0:20 c2 0..7205', 'rx 65-2:0:20 c2 7200..14405', 'tx 65-2:0:20 c2 10800..14405', 'tx 65-2:0:20 c2 3600..7205', 'tx 65-2:0:20 c2 7200..10805'], []],
      [7206, ['rx 65-2:0:20 c2 7200..14405', 'tx 65-2:0:20 c2 10800..14405', 'tx 65-2:0:20 c2 7200..10805'], []],
    ];
    for (const [at, golden, fetched] of steps) {
      clock.s = E + at;
      calls.length = 0;
      await sync.refresh();
      assert.deepEqual(table.golden(), golden, `at E+${at}`);
      assert.deepEqual(calls, fetched, `fetches at E+${at}`);
    }
    const st = sync.stats();
    assert.deepEqual([st.installed, st.replaced, st.removed, st.tableErrors, st.fetched, st.peersWithoutRxKey], [6, 0, 3, 0, 2, 0]);
    assert.deepEqual(st.entries, { tx: 2, rx: 1 });
    // The keys themselves: tx from zurich's secret, rx from frankfurt's Level 1 key.
    const tx = table.entries.get(`${FRA_IA}/tx/${BigInt(E + 7200) * NS}`)!;
    assert.deepEqual(tx.key, meshKey(zurichIssuer.level1(FRA_IA, E + 7200)).key);
    const rx = table.entries.get(`${FRA_IA}/rx/${BigInt(E + 7200) * NS}`)!;
    assert.deepEqual(rx.key, meshKey(frankfurtIssuer.level1(ZRH_IA, E + 7200)).key);
    assert.equal(rx.notAfterNs, BigInt(E + 14400 + GRACE_PERIOD_SECONDS) * NS);
  });

  it('replaces entries it did not write or that changed, and removes entries nothing backs', async () => {
    const table = new MemoryKeyTable();
    const clock = { s: E + 100 };
    await zurichSync(table, clock).refresh();
    const cur = `${FRA_IA}/tx/${BigInt(E) * NS}`;
    table.entries.set(cur, { ...table.entries.get(cur)!, clusterId: 9 });
    table.put({ peerIa: parseIA('66-2:0:20'), dir: 'rx', epochBeginNs: BigInt(E) * NS, notAfterNs: BigInt(E + 3605) * NS, clusterId: 3, key: new Uint8Array(16) });
    // A restarted agent finds a full table: it cannot read keys back, so it writes each once.
    const restarted = zurichSync(table, clock);
    await restarted.refresh();
    assert.deepEqual(table.golden(), ['rx 65-2:0:20 c2 0..7205', 'tx 65-2:0:20 c2 0..3605', 'tx 65-2:0:20 c2 3600..7205']);
    assert.deepEqual([restarted.stats().installed, restarted.stats().replaced, restarted.stats().removed], [0, 3, 1]);
    await restarted.refresh();
    assert.deepEqual([restarted.stats().installed, restarted.stats().replaced, restarted.stats().removed], [0, 3, 1], 'a quiet round writes nothing');
  });

  it('logs a failing put or remove once, counts every attempt, and retries it next round', async () => {
    const table = new MemoryKeyTable();
    const clock = { s: E + 100 };
    const logs: string[] = [];
    const sync = zurichSync(table, clock, frankfurtAnswers([]), (m) => logs.push(m));
    table.fail = (op, k) => op === 'put' && k?.dir === 'rx';
    await sync.refresh();
    await sync.refresh();
    assert.deepEqual(table.golden(), ['tx 65-2:0:20 c2 0..3605', 'tx 65-2:0:20 c2 3600..7205']);
    assert.equal(sync.stats().tableErrors, 2);
    assert.equal(logs.filter((l) => /put rx key for 65-2:0:20 .* failed: map full/.test(l)).length, 1);
    table.fail = (op) => op === 'list';
    await sync.refresh();
    assert.equal(sync.stats().tableErrors, 3);
    table.fail = () => false;
    await sync.refresh();
    assert.deepEqual(table.golden(), ['rx 65-2:0:20 c2 0..7205', 'tx 65-2:0:20 c2 0..3605', 'tx 65-2:0:20 c2 3600..7205']);
    assert.deepEqual(sync.stats().entries, { tx: 2, rx: 1 });
  });

  it('installs no rx key from a refused fetch, counts the refusal by code, and keeps tx keys', async () => {
    const table = new MemoryKeyTable();
    const clock = { s: E + 100 };
    const logs: string[] = [];
    const sync = zurichSync(table, clock, async () => refuseKey('BAD_SIGNATURE', 'an answer claims to be frankfurt\'s but its key did not sign it'), (m) => logs.push(m));
    await sync.refresh();
    await sync.refresh();
    assert.deepEqual(table.golden(), ['tx 65-2:0:20 c2 0..3605', 'tx 65-2:0:20 c2 3600..7205']);
    assert.equal(sync.stats().fetchRefused.BAD_SIGNATURE, 2);
    assert.equal(sync.stats().peersWithoutRxKey, 1);
    assert.equal(logs.length, 1);
  });

  it('gives zurich\'s tx key and frankfurt\'s rx key for the same epoch the same bytes, over the real HTTP exchange', async () => {
    const nowMs = () => (E + 100) * 1000;
    const zurichPeer: MeshPeer = { clusterName: 'zurich', clusterId: 1, ia: ZRH_IA, publicKey: ZURICH.publicKey };
    const frankfurtView = new MeshPeers([zurichPeer], { clusterName: 'frankfurt', clusterId: 2, ia: FRA_IA });
    const servers: Server[] = [];
    const publish = async (name: string, issuer: DrkeyIssuer, key: typeof ZURICH.privateKey, peers: MeshPeers) => {
      const level1 = new Level1Server({ clusterName: name, issuer, privateKey: key, peers, now: nowMs });
      const s = await serveCatalogue(() => ({ ok: true, value: new Uint8Array(0) }), '127.0.0.1', 0, { post: level1.route() });
      servers.push(s.server);
      return s.url;
    };
    try {
      const zurichUrl = await publish('zurich', zurichIssuer, ZURICH.privateKey, zurichPeers);
      const frankfurtUrl = await publish('frankfurt', frankfurtIssuer, FRANKFURT.privateKey, frankfurtView);
      const zt = new MemoryKeyTable();
      const ft = new MemoryKeyTable();
      const zs = new KeySync({
        self: { clusterName: 'zurich', ia: ZRH_IA },
        issuer: zurichIssuer,
        peers: new MeshPeers([{ ...frankfurtPeer, url: frankfurtUrl }], { clusterName: 'zurich', clusterId: 1, ia: ZRH_IA }),
        table: zt,
        fetch: (p, t) => fetchLevel1({ clusterName: 'zurich', ia: ZRH_IA, privateKey: ZURICH.privateKey, now: nowMs }, p, t),
        now: nowMs,
      });
      const fs = new KeySync({
        self: { clusterName: 'frankfurt', ia: FRA_IA },
        issuer: frankfurtIssuer,
        peers: new MeshPeers([{ ...zurichPeer, url: zurichUrl }], { clusterName: 'frankfurt', clusterId: 2, ia: FRA_IA }),
        table: ft,
        fetch: (p, t) => fetchLevel1({ clusterName: 'frankfurt', ia: FRA_IA, privateKey: FRANKFURT.privateKey, now: nowMs }, p, t),
        now: nowMs,
      });
      await Promise.all([zs.refresh(), fs.refresh()]);
      const id = `/${BigInt(E) * NS}`;
      assert.deepEqual(ft.entries.get(`${ZRH_IA}/rx${id}`)?.key, zt.entries.get(`${FRA_IA}/tx${id}`)?.key, 'zurich -> frankfurt');
      assert.deepEqual(zt.entries.get(`${FRA_IA}/rx${id}`)?.key, ft.entries.get(`${ZRH_IA}/tx${id}`)?.key, 'frankfurt -> zurich');
      assert.equal(ft.entries.get(`${ZRH_IA}/rx${id}`)?.clusterId, 1);
      assert.notDeepEqual(zt.entries.get(`${FRA_IA}/tx${id}`)?.key, zt.entries.get(`${FRA_IA}/rx${id}`)?.key, 'each direction has its own key');
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  });
});
