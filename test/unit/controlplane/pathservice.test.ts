import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseIA, type IA } from '../../../scion/isdas';
import type { ControlPlanePath } from '../../../controlplane/combinator';
import { EmbeddedPathService, PathServiceError, type PathService } from '../../../controlplane/pathservice';
import { assertLoopFree, assertPathVerifies, seq } from './verify';

const EXAMPLE = join(__dirname, '../../../examples/topology.yaml');
const T0 = 1_700_000_000;
const ZURICH = parseIA('64-2:0:20');
const FRANKFURT = parseIA('65-2:0:20');
const EUROPE = new Set(['CH', 'DE', 'NL', 'FR']);

function service(clock = { now: T0 }, seed = 42): EmbeddedPathService {
  return EmbeddedPathService.fromFile(EXAMPLE, { now: () => clock.now, seed });
}

const fps = (ps: ControlPlanePath[]): string[] => ps.map((p) => p.fingerprint).sort();
const crosses = (p: ControlPlanePath, ia: IA, ifid: number): boolean => p.interfaces.some((i) => i.ia === ia && i.ifid === ifid);

describe('controlplane EmbeddedPathService over examples/topology.yaml', () => {
  const svc = service();
  const ases = [...svc.topology.ases.keys()];

  it('every path between every pair of ASes verifies hop by hop and is loop-free', async () => {
    let total = 0;
    for (const src of ases) {
      for (const dst of ases) {
        if (src === dst) continue;
        const ps = await svc.paths(src, dst);
        assert.ok(ps.length > 0, `no path ${seq([src, dst])}`);
        for (const p of ps) {
          assertPathVerifies(svc.topology, p);
          assertLoopFree(p);
        }
        total += ps.length;
      }
    }
    assert.ok(total > ases.length * (ases.length - 1));
  });

  it('offers a lowest-latency path, parallel paths, European-only paths and paths leaving Europe between the clusters', async () => {
    const ps = await svc.paths(ZURICH, FRANKFURT);
    const fastest = [...ps].sort((a, b) => a.totalLatencyMs - b.totalLatencyMs)[0];
    assert.equal(seq(fastest.ases), '64-2:0:20 > 64-2:0:10 > 65-2:0:10 > 65-2:0:20');
    assert.ok(fastest.latencyComplete);
    assert.ok(fastest.totalLatencyMs < 10);

    const european = ps.filter((p) => p.geo.every((g) => g?.country !== undefined && EUROPE.has(g.country)));
    const abroad = ps.filter((p) => p.ases.some((ia) => ['US', 'SG'].includes(svc.topology.ases.get(ia)!.country!)));
    assert.ok(european.length >= 5, `${european.length} European-only paths`);
    assert.ok(abroad.some((p) => p.ases.includes(parseIA('66-2:0:10'))), 'a path through Ashburn');
    assert.ok(abroad.some((p) => p.ases.includes(parseIA('67-2:0:10'))), 'a path through Singapore');
    assert.ok(abroad.every((p) => p.totalLatencyMs > 80));

    // The peering path shares no interface with the fastest one: truly parallel.
    const peering = ps.find((p) => p.linkRelations.includes('PEER'))!;
    assert.equal(seq(peering.ases), '64-2:0:20 > 64-2:0:21 > 65-2:0:21 > 65-2:0:20');
    const used = new Set(fastest.interfaces.map((i) => `${i.ia}#${i.ifid}`));
    assert.ok(peering.interfaces.every((i) => !used.has(`${i.ia}#${i.ifid}`)));
    assert.deepEqual(fastest.nextHop, { ifid: 1, underlay: '10.64.20.1:50001' });
    assert.deepEqual(peering.nextHop, { ifid: 2, underlay: '10.64.20.2:50002' });
    assert.equal(Math.min(...abroad.map((p) => p.mtu)), 1400);
  });

  it('marking an interface down removes exactly the paths across its link, and up brings them back', async () => {
    const s = service();
    const zrh = parseIA('64-2:0:10');
    const fra = parseIA('65-2:0:10');
    const before = await s.paths(ZURICH, FRANKFURT);
    const over = before.filter((p) => crosses(p, zrh, 1));
    assert.ok(over.length > 0 && over.length < before.length);
    assert.ok(over.every((p) => crosses(p, fra, 1)));

    await s.notifyInterfaceDown(zrh, 1);
    const after = await s.paths(ZURICH, FRANKFURT);
    assert.deepEqual(fps(after), fps(before.filter((p) => !crosses(p, zrh, 1))));
    assert.equal((await s.interfaces(zrh)).get(1)!.up, false);
    assert.equal((await s.interfaces(fra)).get(1)!.up, false);

    s.setInterfaceState(fra, 1, true);
    assert.deepEqual(fps(await s.paths(ZURICH, FRANKFURT)), fps(before));

    const basel = parseIA('64-2:0:21');
    s.setInterfaceState(basel, 4, false);
    const noPeering = await s.paths(ZURICH, FRANKFURT);
    assert.deepEqual(fps(noPeering), fps(before.filter((p) => !p.linkRelations.includes('PEER'))));
  });

  it('keeps expiry within the configured lifetime and re-beacons before it lapses', async () => {
    const clock = { now: T0 };
    const s = service(clock);
    const lifetime = s.topology.segments.lifetimeSeconds;
    assert.equal(lifetime, 64 * 337.5);
    const first = await s.paths(ZURICH, FRANKFURT);
    assert.ok(first.every((p) => p.expiry === T0 + lifetime));

    clock.now = T0 + lifetime * 0.4;
    assert.equal(s.segments().timestamp, T0, 'not due yet');
    clock.now = T0 + lifetime * 0.6;
    const later = await s.paths(ZURICH, FRANKFURT);
    assert.equal(s.segments().timestamp, Math.floor(clock.now));
    assert.ok(later.every((p) => p.expiry === Math.floor(clock.now) + lifetime && p.expiry > clock.now));
    assert.deepEqual(fps(later), fps(first), 'same routes, fresh hop fields');
    assert.notDeepEqual(later[0].path.infoFields, first[0].path.infoFields);
    for (const p of later) assertPathVerifies(s.topology, p);

    const forced = await s.paths(ZURICH, FRANKFURT, { refresh: true });
    assert.equal(forced.length, later.length);
  });

  it('is deterministic for a given clock and seed', async () => {
    const a = await service({ now: T0 }, 5).paths(ZURICH, FRANKFURT);
    const b = await service({ now: T0 }, 5).paths(ZURICH, FRANKFURT);
    const c = await service({ now: T0 }, 6).paths(ZURICH, FRANKFURT);
    assert.deepEqual(a, b);
    assert.deepEqual(fps(a), fps(c));
    assert.notDeepEqual(a.map((p) => p.path.infoFields), c.map((p) => p.path.infoFields));
  });

  it('without a seed, services started apart in the same period agree on every hop field, and re-beacon together', async () => {
    const shared = (clock: { now: number }): EmbeddedPathService => EmbeddedPathService.fromFile(EXAMPLE, { now: () => clock.now });
    const period = Math.floor(shared({ now: T0 }).topology.segments.lifetimeSeconds * 0.5);
    const start = Math.floor(T0 / period) * period;
    const early = { now: start + 1 };
    const late = { now: start + period - 1 };
    const a = shared(early);
    const b = shared(late);
    assert.deepEqual(await a.paths(ZURICH, FRANKFURT), await b.paths(ZURICH, FRANKFURT));
    assert.equal(a.segments().timestamp, start);
    early.now = start + period;
    late.now = start + period + 7;
    const nextA = await a.paths(ZURICH, FRANKFURT);
    assert.deepEqual(nextA, await b.paths(ZURICH, FRANKFURT));
    assert.equal(a.segments().timestamp, start + period);
    assert.notDeepEqual(nextA.map((p) => p.path.hopFields), (await shared({ now: start }).paths(ZURICH, FRANKFURT)).map((p) => p.path.hopFields));
  });

  it('answers AS and interface queries and limits the number of paths', async () => {
    const ps: PathService = svc;
    assert.deepEqual(await ps.asInfo(ZURICH), { ia: ZURICH, core: false, mtu: 1472, name: 'Zurich cluster', city: 'Zurich', country: 'CH' });
    const intfs = await ps.interfaces(ZURICH);
    assert.deepEqual([...intfs.keys()], [1, 2]);
    assert.deepEqual(intfs.get(1)!.remote, { ia: parseIA('64-2:0:10'), ifid: 4 });
    assert.equal(intfs.get(1)!.linkTo, 'PARENT');
    assert.equal(intfs.get(1)!.geo!.country, 'CH');
    assert.equal((await ps.paths(ZURICH, FRANKFURT, { maxPaths: 3 })).length, 3);
    const [local] = await ps.paths(ZURICH, ZURICH);
    assert.equal(local.interfaces.length, 0);
    await assert.rejects(ps.paths(ZURICH, parseIA('64-2:0:99')), (e: unknown) => e instanceof PathServiceError && e.code === 'UNKNOWN_AS');
    await assert.rejects(ps.notifyInterfaceDown(ZURICH, 9), (e: unknown) => e instanceof PathServiceError && e.code === 'UNKNOWN_INTERFACE');
  });
});
