import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ControlPlanePath } from '../../../controlplane/combinator';
import { EmbeddedPathService } from '../../../controlplane/pathservice';
import { ScionPath } from '../../../proto/gen/flow/flow';
import { hopsFromControlPlane, hopsFromFlowPath } from '../../../geofence/hops';
import { formatIA, parseIA } from '../../../scion/isdas';

const TOPOLOGY = join(__dirname, '../../../examples/topology.yaml');
const svc = EmbeddedPathService.fromFile(TOPOLOGY, { now: () => 1_700_000_000, seed: 7 });
const paths = svc.pathsSync(parseIA('64-2:0:20'), parseIA('65-2:0:20'));
const seq = (p: ControlPlanePath): string => p.ases.map((a) => formatIA(a)).join(' > ');
const direct = paths.find((p) => seq(p) === '64-2:0:20 > 64-2:0:10 > 65-2:0:10 > 65-2:0:20')!;

describe('geofence hops', () => {
  describe('from control-plane paths', () => {
    it('gives one hop per AS with the interfaces crossed and the positions declared in examples/topology.yaml', () => {
      assert.ok(direct, 'the core-link path exists');
      // Links of the file: 64-2:0:10#4 - 64-2:0:20#1, 64-2:0:10#1 - 65-2:0:10#1, 65-2:0:10#5 - 65-2:0:20#1.
      assert.deepEqual(hopsFromControlPlane(direct), [
        { isdAs: parseIA('64-2:0:20'), ingress: 0, egress: 1, latitude: 47.39, longitude: 8.515, country: 'CH' },
        { isdAs: parseIA('64-2:0:10'), ingress: 4, egress: 1, latitude: 47.3769, longitude: 8.5417, country: 'CH' },
        { isdAs: parseIA('65-2:0:10'), ingress: 1, egress: 5, latitude: 50.1109, longitude: 8.6821, country: 'DE' },
        { isdAs: parseIA('65-2:0:20'), ingress: 1, egress: 0, latitude: 50.098, longitude: 8.634, country: 'DE' },
      ]);
    });

    it('leaves the country of Singapore, which the file does not give, to the lookup', () => {
      const viaSingapore = paths.find((p) => p.ases.includes(parseIA('67-2:0:10')))!;
      const sg = hopsFromControlPlane(viaSingapore).find((h) => h.isdAs === parseIA('67-2:0:10'))!;
      assert.equal(sg.country, undefined);
      assert.deepEqual([sg.latitude, sg.longitude], [1.3521, 103.8198]);
    });

    it('keeps a second site when an AS declared its egress border router elsewhere', () => {
      const geo = direct.geo.slice();
      geo[2] = { latitude: 48.8566, longitude: 2.3522, address: 'Paris', country: 'FR' };
      const hops = hopsFromControlPlane({ ...direct, geo });
      assert.deepEqual(hops[1], {
        isdAs: parseIA('64-2:0:10'),
        ingress: 4,
        egress: 1,
        latitude: 47.3769,
        longitude: 8.5417,
        country: 'CH',
        egressSite: { latitude: 48.8566, longitude: 2.3522, country: 'FR' },
      });
      assert.equal(hops[0].egressSite, undefined);
    });

    it('leaves a hop unlocated when one of its border routers declared no position', () => {
      const geo = direct.geo.slice();
      geo[2] = null;
      const hops = hopsFromControlPlane({ ...direct, geo });
      assert.deepEqual(hops[1], { isdAs: parseIA('64-2:0:10'), ingress: 4, egress: 1 });
      assert.equal(hops[2].country, 'DE');
    });

    it('gives the empty path one unlocated hop, the local AS', () => {
      const [empty] = svc.pathsSync(parseIA('64-2:0:20'), parseIA('64-2:0:20'));
      assert.deepEqual(hopsFromControlPlane(empty), [{ isdAs: parseIA('64-2:0:20'), ingress: 0, egress: 0 }]);
    });
  });

  describe('from flow paths', () => {
    it('reads ISD-AS, interfaces, position and country, ignoring what is unusable', () => {
      const p = ScionPath.fromPartial({
        knownToControlPlane: true,
        hops: [
          { isdAs: '64-2:0:20', egressInterface: 1, geo: { latitude: 47.39, longitude: 8.515, address: 'Zurich' }, country: 'CH' },
          { isdAs: '64-2:0:10', ingressInterface: 4, egressInterface: 1, country: 'ch' },
          { isdAs: '', ingressInterface: 1, egressInterface: 3 },
          { isdAs: '66-0', ingressInterface: 2, egressInterface: 9 },
          { isdAs: 'bogus', ingressInterface: 1, geo: { latitude: 1.3521, longitude: 103.8198, address: '' }, country: '' },
        ],
      });
      assert.deepEqual(hopsFromFlowPath(p), [
        { isdAs: parseIA('64-2:0:20'), ingress: 0, egress: 1, latitude: 47.39, longitude: 8.515, country: 'CH' },
        { isdAs: parseIA('64-2:0:10'), ingress: 4, egress: 1 },
        { isdAs: undefined, ingress: 1, egress: 3 },
        { isdAs: undefined, ingress: 2, egress: 9 },
        { isdAs: undefined, ingress: 1, egress: 0, latitude: 1.3521, longitude: 103.8198 },
      ]);
    });
  });
});
