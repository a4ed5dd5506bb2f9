// The demo: examples/topology.yaml with the fences of examples/policies/zurich, judged for
// the operator (control-plane paths) and for the relay (the same paths as flows report them).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ControlPlanePath } from '../../../controlplane/combinator';
import { EmbeddedPathService } from '../../../controlplane/pathservice';
import type { Geofence } from '../../../resources/geofence';
import { validateResource } from '../../../resources/resource';
import type { WorkloadLabels } from '../../../identity/workload_labels';
import { ScionPath } from '../../../proto/gen/flow/flow';
import { allowedForEnforcement } from '../../../geofence/enforcement';
import { GeofenceEngine } from '../../../geofence/engine';
import { hopsFromControlPlane } from '../../../geofence/hops';
import { evaluate } from '../../../geofence/verdict';
import { formatIA, parseIA } from '../../../scion/isdas';
import { exampleDocs } from '../resources/examples';

const svc = EmbeddedPathService.fromFile(join(__dirname, '../../../examples/topology.yaml'), { now: () => 1_700_000_000, seed: 11 });
const paths = svc.pathsSync(parseIA('64-2:0:20'), parseIA('65-2:0:20'));

const fences = new Map<string, Geofence>();
for (const doc of exampleDocs('zurich')) {
  const v = validateResource(doc);
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  if (v.value.kind === 'Geofence') fences.set(v.value.metadata.name, v.value);
}
const euPlusCh = fences.get('eu-plus-ch')!;
const euPlusChAudit = fences.get('eu-plus-ch-audit')!;

/** The countries of the file's European ASes (CH is in neither the EU nor the EEA). */
const EU_PLUS_CH_IN_FILE = new Set(['CH', 'DE', 'NL', 'FR']);
const asCountry = (ia: bigint): string => svc.topology.ases.get(ia)!.country!;
/** Index of the first AS outside Europe, by the AS-level country of the topology file; -1 if none. */
const firstAbroad = (p: ControlPlanePath): number => p.ases.findIndex((ia) => !EU_PLUS_CH_IN_FILE.has(asCountry(ia)));
const seq = (p: ControlPlanePath): string => p.ases.map((a) => formatIA(a)).join(' > ');

const european = paths.filter((p) => firstAbroad(p) < 0);
const abroad = paths.filter((p) => firstAbroad(p) >= 0);

/** The path as a collector reports it in a flow: one hop per AS with its position and metadata country. */
function asFlowPath(p: ControlPlanePath): ScionPath {
  return ScionPath.fromPartial({
    srcIa: formatIA(p.src),
    dstIa: formatIA(p.dst),
    fingerprint: p.fingerprint,
    knownToControlPlane: true,
    hops: hopsFromControlPlane(p).map((h) => ({
      isdAs: formatIA(h.isdAs!),
      ingressInterface: h.ingress,
      egressInterface: h.egress,
      geo: h.latitude === undefined ? undefined : { latitude: h.latitude, longitude: h.longitude!, address: '' },
      country: h.country ?? '',
    })),
  });
}

const workload = (ns: string, app: string): WorkloadLabels => ({ namespaceLabels: { 'kubernetes.io/metadata.name': ns }, podLabels: { app } });

describe('geofences of examples/policies over examples/topology.yaml', () => {
  it('has European-only paths and paths through Ashburn and through Singapore between the clusters', () => {
    assert.ok(european.length >= 5, `${european.length} European paths`);
    assert.ok(abroad.some((p) => p.ases.includes(parseIA('66-2:0:10'))));
    assert.ok(abroad.some((p) => p.ases.includes(parseIA('67-2:0:10'))));
    assert.equal(euPlusCh.spec.allow.countries.length, 28);
  });

  it('eu-plus-ch finds the European paths COMPLIANT and names the US or Singapore hop of the others', () => {
    for (const p of european) assert.equal(evaluate(euPlusCh.spec, hopsFromControlPlane(p)).verdict, 'COMPLIANT', seq(p));
    for (const p of abroad) {
      const e = evaluate(euPlusCh.spec, hopsFromControlPlane(p));
      const i = firstAbroad(p);
      const country = asCountry(p.ases[i]);
      assert.equal(e.verdict, 'VIOLATION', seq(p));
      assert.equal(e.offendingHop, i, seq(p));
      assert.equal(e.offendingIsdAs, p.ases[i]);
      assert.equal(e.offendingCountry, country);
      // Singapore's interfaces name no country in the file: its country came from the lookup.
      const how = country === 'SG' ? ' by its coordinates (1.3521, 103.8198)' : '';
      assert.equal(e.reason, `hop ${i} (${formatIA(p.ases[i])}) is in ${country}${how}, outside allowed EU, CH`);
    }
  });

  it('makes paths through a Singapore without declared positions UNVERIFIED, unless they also cross Ashburn', () => {
    const sg = parseIA('67-2:0:10');
    const us = parseIA('66-2:0:10');
    const blind = (p: ControlPlanePath): ControlPlanePath => ({ ...p, geo: p.geo.map((g, k) => (p.interfaces[k].ia === sg ? null : g)) });
    const viaSg = abroad.filter((p) => p.ases.includes(sg));
    assert.ok(viaSg.some((p) => !p.ases.includes(us)) && viaSg.some((p) => p.ases.includes(us)));
    for (const p of viaSg) {
      const e = evaluate(euPlusCh.spec, hopsFromControlPlane(blind(p)));
      assert.equal(e.verdict, p.ases.includes(us) ? 'VIOLATION' : 'UNVERIFIED', seq(p));
      if (e.verdict === 'VIOLATION') assert.equal(e.offendingCountry, 'US');
      else assert.equal(e.reason, `hop ${p.ases.indexOf(sg)} (67-2:0:10) declares no location, so its country is unknown`);
    }
  });

  it('keeps the paths leaving Europe out of the datapath under the enforcing fence only', () => {
    for (const p of european) assert.deepEqual(allowedForEnforcement(p, [euPlusCh, euPlusChAudit]), { allowed: true });
    for (const p of abroad) {
      const d = allowedForEnforcement(p, [euPlusChAudit, euPlusCh]);
      assert.equal(d.allowed, false, seq(p));
      if (!d.allowed) {
        assert.equal(d.blocking.name, 'eu-plus-ch');
        assert.equal(d.blocking.mode, 'enforce');
        assert.equal(d.blocking.verdict, 'VIOLATION');
      }
      assert.deepEqual(allowedForEnforcement(p, [euPlusChAudit]), { allowed: true }, 'audit never blocks');
    }
  });

  it('refuses an UNVERIFIED path under enforcement', () => {
    const p = european[0];
    const d = allowedForEnforcement({ ...p, geo: p.geo.map(() => null) }, [euPlusCh]);
    assert.equal(d.allowed, false);
    if (!d.allowed) assert.equal(d.blocking.verdict, 'UNVERIFIED');
  });

  it('gives the relay the same verdicts for the flows of the replication and analytics workloads', () => {
    const engine = new GeofenceEngine();
    for (const f of fences.values()) engine.upsert(f);
    const replication = workload('db', 'replication');
    const analytics = workload('analytics', 'analytics');
    const frankfurtPeer = workload('db', 'other');
    for (const p of paths) {
      const expected = firstAbroad(p) < 0 ? 'COMPLIANT' : 'VIOLATION';
      const flow = asFlowPath(p);
      const r = engine.check({ source: replication, destination: frankfurtPeer, path: flow })!;
      assert.deepEqual([r.decision.name, r.decision.mode, r.decision.verdict], ['eu-plus-ch', 'enforce', expected], seq(p));
      assert.deepEqual(r.decision, { ...evaluate(euPlusCh.spec, hopsFromControlPlane(p)), name: 'eu-plus-ch', namespace: '', mode: 'enforce' });
      const a = engine.check({ source: analytics, destination: frankfurtPeer, path: flow })!;
      assert.deepEqual([a.decision.name, a.decision.mode, a.decision.verdict], ['eu-plus-ch-audit', 'audit', expected], seq(p));
      assert.equal(engine.check({ source: frankfurtPeer, destination: frankfurtPeer, path: flow }), undefined);
    }
  });
});
