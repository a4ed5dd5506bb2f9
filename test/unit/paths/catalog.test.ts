import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ControlPlanePath } from '../../../controlplane/combinator';
import { EmbeddedPathService } from '../../../controlplane/pathservice';
import { ControlPlaneCatalog } from '../../../paths/catalog';
import { describePath } from '../../../paths/describe';
import { ScionPathType } from '../../../proto/gen/flow/flow';
import { parseIA } from '../../../scion/isdas';
import { pathFingerprint } from '../../../scion/path/fingerprint';
import { encodeScionPathBytes } from '../../../scion/path/raw';
import { inTransit } from './helpers';

const EXAMPLE = join(__dirname, '../../../examples/topology.yaml');
const ZURICH = parseIA('64-2:0:20');
const FRANKFURT = parseIA('65-2:0:20');

describe('paths/describe and paths/catalog', () => {
  let paths: ControlPlanePath[];
  before(async () => {
    const svc = EmbeddedPathService.fromFile(EXAMPLE, { now: () => 1_700_000_000, seed: 1 });
    paths = await svc.paths(ZURICH, FRANKFURT);
  });

  describe('describePath', () => {
    it('gives one hop per AS with the control plane\'s interfaces, ISD-ASes, geo, country and latency', () => {
      const cp = paths[0];
      const p = describePath(cp, 7);
      assert.equal(p.srcIa, '64-2:0:20');
      assert.equal(p.dstIa, '65-2:0:20');
      assert.equal(p.pathId, 7);
      assert.equal(p.knownToControlPlane, true);
      assert.equal(p.type, ScionPathType.SCION_PATH_STANDARD);
      assert.equal(p.fingerprint, pathFingerprint(cp.interfaces));
      assert.deepEqual(p.hops.map((h) => h.isdAs), cp.ases.map((ia) => `${ia >> 48n}-${[32n, 16n, 0n].map((s) => ((ia >> s) & 0xffffn).toString(16)).join(':')}`));
      // Interfaces in order, the path's ends left at 0.
      assert.equal(p.hops[0].ingressInterface, 0);
      assert.equal(p.hops.at(-1)!.egressInterface, 0);
      assert.deepEqual(p.hops.flatMap((h) => [h.ingressInterface, h.egressInterface]).slice(1, -1), cp.interfaces.map((i) => i.ifid));
      assert.equal(p.hops[0].country, 'CH');
      assert.deepEqual(p.hops[0].geo, { latitude: 47.39, longitude: 8.515, address: 'Zurich-West, Switzerland' });
      assert.equal(p.hops.at(-1)!.country, 'DE');
      assert.equal(p.hops[0].latencyNs, BigInt(Math.round(cp.latencyMs[0]! * 1e6)));
      assert.equal(p.hops[1].latencyNs, BigInt(Math.round((cp.latencyMs[1]! + cp.latencyMs[2]!) * 1e6)));
      assert.equal(p.hops.at(-1)!.latencyNs, undefined);
      assert.equal(p.latencyNs, BigInt(Math.round(cp.totalLatencyMs * 1e6)));
      assert.equal(Number(p.expiry!.seconds) + p.expiry!.nanos / 1e9, cp.expiry);
      assert.equal(p.mtu, cp.mtu);
    });

    it('leaves latency unset where a hop announced none', () => {
      const cp = { ...paths[0], latencyMs: paths[0].latencyMs.map((l, i) => (i === 0 ? null : l)), latencyComplete: false };
      const p = describePath(cp, 1);
      assert.equal(p.hops[0].latencyNs, undefined);
      assert.notEqual(p.hops[1].latencyNs, undefined);
      assert.equal(p.latencyNs, undefined);
    });
  });

  describe('ControlPlaneCatalog', () => {
    it('finds paths by datapath id, and by their hop fields as they look anywhere along the way', () => {
      const cat = new ControlPlaneCatalog();
      cat.set(paths.map((path, i) => ({ pathId: i + 1, path })));
      assert.equal(cat.byId(2)?.fingerprint, paths[1].fingerprint);
      assert.equal(cat.byId(99), undefined);
      for (const cp of paths) {
        const raw = encodeScionPathBytes(cp.path);
        const sent = cat.byRaw(raw, 1, ZURICH, FRANKFURT);
        assert.equal(sent.knownToControlPlane, true);
        assert.equal(sent.fingerprint, cp.fingerprint);
        assert.equal(cat.byRaw(inTransit(raw), 1, ZURICH, FRANKFURT).fingerprint, cp.fingerprint);
      }
    });

    it('describes a path the control plane never handed out from its bytes alone: interfaces per AS, ends only', () => {
      const cat = new ControlPlaneCatalog();
      cat.set([]);
      // Every shape the combinator builds (core only, up+core+down, shortcuts, peering) must
      // come out with the ASes and interfaces the control plane itself lists.
      for (const cp of paths) {
        const p = cat.byRaw(encodeScionPathBytes(cp.path), 1, ZURICH, FRANKFURT);
        const want = describePath(cp, 0);
        assert.equal(p.knownToControlPlane, false);
        assert.equal(p.fingerprint, '');
        assert.deepEqual(
          p.hops.map((h) => [h.ingressInterface, h.egressInterface]),
          want.hops.map((h) => [h.ingressInterface, h.egressInterface]),
          `segments ${JSON.stringify(cp.segments)}`,
        );
        assert.equal(p.hops[0].isdAs, '64-2:0:20');
        assert.equal(p.hops.at(-1)!.isdAs, '65-2:0:20');
        assert.ok(p.hops.slice(1, -1).every((h) => h.isdAs === '' && h.geo === undefined));
      }
      assert.ok(paths.some((cp) => cp.segments.some((s) => s.peer)), 'the example has a peering path');
    });

    it('forgets a path that is no longer in the catalog', () => {
      const cat = new ControlPlaneCatalog();
      cat.set([{ pathId: 1, path: paths[0] }]);
      cat.set([]);
      assert.equal(cat.byId(1), undefined);
      assert.equal(cat.byRaw(encodeScionPathBytes(paths[0].path), 1, ZURICH, FRANKFURT).knownToControlPlane, false);
    });

    it('returns a bare unknown path for bytes that do not decode, and an empty path as known', () => {
      const cat = new ControlPlaneCatalog();
      const raw = encodeScionPathBytes(paths[0].path);
      const cut = cat.byRaw(raw.subarray(0, raw.length - 5), 1, ZURICH, FRANKFURT);
      assert.equal(cut.knownToControlPlane, false);
      assert.deepEqual(cut.hops, []);
      assert.equal(cut.srcIa, '64-2:0:20');
      const empty = cat.byRaw(new Uint8Array(0), 0, ZURICH, ZURICH);
      assert.equal(empty.type, ScionPathType.SCION_PATH_EMPTY);
      assert.equal(empty.knownToControlPlane, true);
      assert.equal(cat.byRaw(new Uint8Array(0), 2, ZURICH, ZURICH).type, ScionPathType.SCION_PATH_ONE_HOP);
    });
  });

});
