// The merge of several relays' rows on its own: which copy of a flow it keeps (the exporting
// relay's own, else the first peer's in peer order, whatever their texts' order), what it
// counts, and the bound on one instant's flows per peer.
import assert from 'node:assert/strict';
import type { EvidenceRow } from '../../../../relay/attest/evidence_row';
import type { RowSource } from '../../../../relay/attest/export';
import { MergedRows, MergeRefusal } from '../../../../relay/attest/merge_rows';

const row = (time: string, uuid: string, tag: string, fence = 'null'): EvidenceRow => ({
  line: `{"fence":${fence},"tag":"${tag}","time":"${time}","uuid":"${uuid}"}`, time, uuid, path: '', packets: 1, bytes: 1, fence: null,
});

function source(rows: EvidenceRow[], runRows = 2): RowSource & { closed: boolean } {
  let at = 0;
  const s = {
    closed: false,
    paths: new Map(),
    geofences: () => [],
    next: async () => {
      if (at >= rows.length) return undefined;
      const run = rows.slice(at, at + runRows);
      at += runRows;
      return run;
    },
    close: async () => {
      s.closed = true;
    },
  };
  return s;
}

async function all(m: MergedRows): Promise<EvidenceRow[]> {
  const out: EvidenceRow[] = [];
  for (let run = await m.next(); run !== undefined; run = await m.next()) out.push(...run);
  return out;
}

const T1 = '2026-01-01T00:00:01.000000000Z';
const T2 = '2026-01-01T00:00:02.000000000Z';

describe('relay/attest merged rows', () => {
  it("keeps the first peer's copy in peer order, not the one whose text sorts first, and counts the conflict", async () => {
    const failures: unknown[] = [];
    const m = new MergedRows([source([row(T2, 'own', 'm')]), source([row(T1, 'x', 'b-first-peer'), row(T2, 'p', 'p')]), source([row(T1, 'x', 'a-second-peer')])], (_, e) => {
      failures.push(e);
      return true;
    });
    const rows = await all(m);
    assert.deepEqual(rows.map((r) => JSON.parse(r.line).tag), ['b-first-peer', 'm', 'p']);
    assert.deepEqual([m.duplicates, m.conflicts, failures], [1, 1, []]);
  });

  it("refuses a peer whose copy differs from the exporting relay's own, and keeps the own", async () => {
    const peer = source([row(T1, 'x', 'a-forged'), row(T2, 'y', 'y')]);
    const failures: [number, unknown][] = [];
    const m = new MergedRows([source([row(T1, 'x', 'z-own')]), peer], (i, e) => {
      failures.push([i, e]);
      return true;
    });
    const rows = await all(m);
    assert.deepEqual(rows.map((r) => r.uuid), ['x']);
    assert.ok(rows[0].line.includes('z-own'));
    assert.equal(failures.length, 1);
    assert.equal(failures[0][0], 1);
    assert.ok(failures[0][1] instanceof MergeRefusal && failures[0][1].kind === 'invalid');
    assert.ok(peer.closed, "the refused peer's call is closed");
    assert.equal(m.conflicts, 1);
  });

  it("keeps the own copy of a flow a peer judged against another geofence, and counts the conflict, refusing nothing", async () => {
    const failures: unknown[] = [];
    // The peer's copy (no fence applied) sorts before the own one (judged against dach).
    const mine = row(T1, 'x', 'same', '{"name":"dach"}');
    const m = new MergedRows([source([mine]), source([row(T1, 'x', 'same')])], (_, e) => {
      failures.push(e);
      return true;
    });
    const rows = await all(m);
    assert.deepEqual(rows.map((r) => r.line), [mine.line]);
    assert.deepEqual([m.duplicates, m.conflicts, failures], [1, 1, []]);
  });

  it('fails a peer past the bound on flows of one instant, not the exporting relay', async () => {
    const many = (tag: string, n: number) => Array.from({ length: n }, (_, i) => row(T1, `${tag}${String(i).padStart(3, '0')}`, tag));
    const failures: unknown[] = [];
    const m = new MergedRows([source(many('own', 9)), source(many('peer', 9))], (_, e) => {
      failures.push(e);
      return true;
    }, 8);
    const rows = await all(m);
    assert.equal(rows.length, 9);
    assert.ok(rows.every((r) => r.uuid.startsWith('own')));
    assert.ok(failures[0] instanceof MergeRefusal && failures[0].kind === 'limit' && /more than 8 flows of one instant/.test(failures[0].message));
  });
});
