// Attestations over SRv6 flows: the path table carries each SRv6 path (segments, hop
// countries, tenant, HMAC outcome) beside SCION's, the export signs and verifies, and a
// changed segment, path key or path entry is caught.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Flow, GeofenceVerdict, ScionObservationPoint, Srv6HmacStatus, Verdict, WanPathType, type Srv6Hop,
} from '../../../../proto/gen/flow/flow';
import { parsePathEntry, pathEntryBytes } from '../../../../relay/attest/catalogue';
import { parseEnvelope } from '../../../../relay/attest/dsse';
import { segmentsFingerprint, srv6Entry, srv6Key } from '../../../../relay/attest/evidence_row';
import { exportAttestation, type EvidenceSource } from '../../../../relay/attest/export';
import { draftAttestation, ENVELOPE_NAME, readEvidence, REPORT_NAME } from '../../../../relay/attest/files';
import { keyId } from '../../../../relay/attest/keys';
import { isSrv6Path, type Srv6PathUse } from '../../../../relay/attest/predicate';
import { renderReport } from '../../../../relay/attest/report';
import { signPayload, signStatement } from '../../../../relay/attest/sign';
import { EVIDENCE_NAME, statementBytes, type Statement } from '../../../../relay/attest/statement';
import { verifyAttestation } from '../../../../relay/attest/verify';
import type { FlowQuery } from '../../../../relay/store/store';
import { CORPUS_START_MS, options } from './fixture';

const NODES: Record<string, Omit<Srv6Hop, 'sid' | 'behavior'>> = {
  'fc00:0:1::1': { node: 'pe-zurich', operator: 'Alpine Carrier', asn: 64600, locator: 'fc00:0:1::/48', geo: { latitude: 47.3769, longitude: 8.5417, address: 'Zurich, Switzerland' }, country: 'CH' },
  'fc00:0:2::1': { node: 'p-milan', operator: 'Alpine Carrier', asn: 64600, locator: 'fc00:0:2::/48', geo: { latitude: 45.4642, longitude: 9.19, address: 'Milan, Italy' }, country: 'IT' },
  'fc00:0:3::1': { node: 'p-vienna', operator: 'Danube Networks', asn: 64700, locator: 'fc00:0:3::/48', geo: { latitude: 48.2082, longitude: 16.3738, address: 'Vienna, Austria' }, country: 'AT' },
  'fc00:0:4::1': { node: 'pe-frankfurt', operator: 'Alpine Carrier', asn: 64600, locator: 'fc00:0:4::/48', geo: { latitude: 50.1109, longitude: 8.6821, address: 'Frankfurt, Germany' }, country: 'DE' },
  'fc00:0:201::200': { node: 'fra-node-1', operator: 'Frankfurt cluster', asn: 0, locator: 'fc00:0:201::/48', geo: { latitude: 50.1109, longitude: 8.6821, address: 'Frankfurt, Germany' }, country: 'DE' },
};
const VIA_AUSTRIA = ['fc00:0:1::1', 'fc00:0:2::1', 'fc00:0:3::1', 'fc00:0:4::1', 'fc00:0:201::200'];
const DIRECT = ['fc00:0:1::1', 'fc00:0:4::1', 'fc00:0:201::200'];

function srv6Flow(i: number, segments: string[], hmac: Srv6HmacStatus): Flow {
  const ms = CORPUS_START_MS + 2000 + i * 10;
  return Flow.fromPartial({
    time: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 + i },
    uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    nodeName: 'zrh-node-1',
    verdict: Verdict.FORWARDED,
    IP: { source: '10.1.0.5', destination: '10.2.0.7' },
    l4: { protocol: { $case: 'UDP', value: { sourcePort: 4000 + i, destinationPort: 5060 } } },
    source: { clusterName: 'zurich', namespace: 'archive', podName: 'backup-0', identity: 4242, labels: ['k8s:app=ledger'] },
    destination: { clusterName: 'frankfurt', namespace: 'archive', podName: 'backup-0', labels: ['k8s:app=ledger'] },
    scionObservationPoint: ScionObservationPoint.SCION_EDGE_ENCAP,
    meter: { packets: BigInt(i + 1), bytes: BigInt(1000 * (i + 1)) },
    pathType: WanPathType.WAN_PATH_SRV6,
    srv6Path: {
      segments,
      segmentsLeft: segments.length - 1,
      source: 'fc00:0:101::1',
      tenantId: 200,
      tenant: 'archive',
      hops: segments.map((sid) => ({ sid, behavior: sid.endsWith('::200') ? 'End.DT4' : 'End', ...NODES[sid] })),
      fingerprint: segmentsFingerprint(segments),
      knownToCatalogue: true,
      hmac: { status: hmac, keyId: hmac === Srv6HmacStatus.SRV6_HMAC_ABSENT ? 0 : 1 },
      pathId: 7,
    },
    geofence: segments.includes('fc00:0:2::1')
      ? { verdict: GeofenceVerdict.GEOFENCE_VIOLATION, name: 'dach', reason: 'segment fc00:0:2::1 (p-milan) is in IT', offendingHop: 1, offendingSid: 'fc00:0:2::1', offendingCountry: 'IT' }
      : { verdict: GeofenceVerdict.GEOFENCE_COMPLIANT, name: 'dach', reason: '' },
  });
}

/** Twelve SRv6 flows: through Austria with a verified HMAC, one whose HMAC did not verify, and the direct list without one. */
function flows(): Flow[] {
  return Array.from({ length: 12 }, (_, i) => (i % 3 === 0
    ? srv6Flow(i, DIRECT, Srv6HmacStatus.SRV6_HMAC_ABSENT)
    : srv6Flow(i, VIA_AUSTRIA, i === 4 ? Srv6HmacStatus.SRV6_HMAC_MISMATCH : Srv6HmacStatus.SRV6_HMAC_VERIFIED)));
}

/** A flow source without stored columns (export's Flow path): every flow is inside the window and selected. */
const source = (fs: Flow[]): EvidenceSource => ({
  async *query(_q: FlowQuery) {
    yield* fs;
  },
});

describe('relay/attest over SRv6 paths', function () {
  this.timeout(60_000);
  const ed = generateKeyPairSync('ed25519');
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'cillion-attest-srv6-'));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  const exportHere = async (fs = flows()): Promise<Statement> => {
    const draft = await draftAttestation(out);
    try {
      const { statement } = await exportAttestation(source(fs), options(), draft.sink);
      return await draft.commit(signStatement(statement, [ed.privateKey]), renderReport(statement, { keyid: keyId(ed.privateKey) }), [ed.privateKey]);
    } finally {
      await draft.abort();
    }
  };
  const verify = async () => {
    const envelope = readFileSync(join(out, ENVELOPE_NAME));
    const here = await verifyAttestation({ envelope, keys: [ed.publicKey], evidence: readEvidence(join(out, EVIDENCE_NAME)) });
    const workers = await verifyAttestation({ envelope, keys: [ed.publicKey], evidence: readEvidence(join(out, EVIDENCE_NAME)), workers: 2 });
    assert.deepEqual({ ...workers, statement: undefined }, { ...here, statement: undefined });
    return here;
  };
  const checks = (r: { failures: { check: string }[] }): string[] => [...new Set(r.failures.map((f) => f.check))].sort();
  const statement = (): Statement => JSON.parse(Buffer.from(parseEnvelope(readFileSync(join(out, ENVELOPE_NAME))).payload, 'base64').toString()) as Statement;
  const resign = (st: Statement): void => writeFileSync(join(out, ENVELOPE_NAME), JSON.stringify(signPayload(statementBytes(st), [ed.privateKey])));
  const lines = (): string[] => readFileSync(join(out, EVIDENCE_NAME), 'utf8').split('\n').slice(0, -1);

  it('lists each SRv6 path with its segments, hop countries, tenant and HMAC outcome, and verifies', async () => {
    const st = await exportHere();
    const p = st.predicate;
    const srv6 = p.paths.filter(isSrv6Path);
    assert.equal(srv6.length, 3, 'direct, via Austria verified, via Austria mismatched');
    const byHmac = (s: string, segs: string[]): Srv6PathUse | undefined => srv6.find((x) => x.hmac.status === s && x.segments.join() === segs.join());
    const verified = byHmac('VERIFIED', VIA_AUSTRIA);
    const mismatch = byHmac('MISMATCH', VIA_AUSTRIA);
    const direct = byHmac('ABSENT', DIRECT);
    assert.ok(verified && mismatch && direct);
    assert.deepEqual(verified.hops.map((h) => [h.node, h.country]), [['pe-zurich', 'CH'], ['p-milan', 'IT'], ['p-vienna', 'AT'], ['pe-frankfurt', 'DE'], ['fra-node-1', 'DE']]);
    assert.deepEqual([verified.tenantId, verified.tenant, verified.source, verified.hmac.keyId], [200, 'archive', 'fc00:0:101::1', 1]);
    assert.equal(verified.segmentsFingerprint, mismatch.segmentsFingerprint, 'the same segment list');
    assert.notEqual(verified.fingerprint, mismatch.fingerprint, 'but another path key: the HMAC outcome is part of the entry');
    // 12 flows: 4 direct (0, 3, 6, 9), flow 4 mismatched, 7 verified.
    assert.deepEqual([direct.counts.flows, mismatch.counts.flows, verified.counts.flows], [4, 1, 7]);
    assert.equal(mismatch.counts.packets, '5');
    assert.deepEqual(Object.fromEntries(p.countries.map((c) => [c.country, c.counts.flows])), { AT: 8, CH: 12, DE: 12, IT: 8 });
    assert.deepEqual(p.ases, [], 'SRv6 hops count per country, not per ISD-AS');
    assert.equal(p.totals.violation, 8);
    assert.equal(p.noPath.flows, 0);
    for (const l of lines()) assert.match((JSON.parse(l) as { path: string }).path, /^srv6:[0-9a-f]{64}$/);
    const r = await verify();
    assert.deepEqual(r.failures, []);
    assert.ok(r.ok);
    assert.equal(r.evidenceFlows, 12);
    const report = readFileSync(join(out, REPORT_NAME), 'utf8');
    assert.match(report, /\| SRv6 \| [0-9a-f]{16} \| fc00:0:1::1 pe-zurich \(CH\) → fc00:0:2::1 p-milan \(IT\) → .* End\.DT4; tenant archive; HMAC MISMATCH \| 1 \| 5 \| 5000 \|/);
    assert.match(report, /SRv6 segments carry no per-hop MAC/);
  });

  it('puts SCION and SRv6 paths in one statement, and a flow without a path under noPath', async () => {
    const fs = flows();
    const scion = Flow.fromPartial({ ...fs[1], uuid: 'scion-1', pathType: WanPathType.WAN_PATH_SCION, srv6Path: undefined, scionPath: { fingerprint: 'AB'.repeat(32), srcIa: '64-2:0:20', dstIa: '65-2:0:20', knownToControlPlane: true, hops: [{ isdAs: '64-2:0:20', country: 'CH' }] } });
    const none = Flow.fromPartial({ ...fs[2], uuid: 'none-1', pathType: WanPathType.WAN_PATH_TYPE_UNKNOWN, srv6Path: undefined, geofence: undefined });
    const st = await exportHere([...fs.slice(0, 10), scion, none].sort((a, b) => Number(a.time!.seconds - b.time!.seconds) || a.time!.nanos - b.time!.nanos));
    const p = st.predicate;
    assert.deepEqual(p.paths.map((x) => (isSrv6Path(x) ? 'srv6' : x.fingerprint)).sort(), ['ab'.repeat(32), 'srv6', 'srv6', 'srv6']);
    assert.deepEqual(p.ases.map((a) => [a.isdAs, a.counts.flows]), [['64-2:0:20', 1]]);
    assert.equal(p.noPath.flows, 1);
    assert.deepEqual((await verify()).failures, []);
  });

  describe('tampering', () => {
    beforeEach(async () => {
      await exportHere();
    });

    it('a segment changed in the signed statement breaks the signature', async () => {
      const env = parseEnvelope(readFileSync(join(out, ENVELOPE_NAME)));
      const b = Buffer.from(env.payload, 'base64');
      const at = b.indexOf('fc00:0:3::1');
      b[at + 10] = '2'.charCodeAt(0);
      env.payload = b.toString('base64');
      writeFileSync(join(out, ENVELOPE_NAME), JSON.stringify(env));
      assert.ok(checks(await verify()).includes('signature'));
    });

    it('a segment changed and re-signed: the entry is no longer what its key and fingerprint say', async () => {
      const st = statement();
      const path = st.predicate.paths.find((x): x is Srv6PathUse => isSrv6Path(x) && x.segments.includes('fc00:0:2::1'));
      assert.ok(path);
      path.segments[1] = 'fc00:0:4::1';
      path.hops[1] = { ...path.hops[1], sid: 'fc00:0:4::1', node: 'pe-frankfurt', country: 'DE' };
      resign(st);
      const r = await verify();
      assert.ok(checks(r).includes('predicate.paths'), checks(r).join(', '));
      assert.ok(r.failures.some((f) => /the key is not the digest of its entry/.test(f.message)));
    });

    it('a hop\'s country changed with the key recomputed, re-signed: the evidence lines name a path the predicate no longer lists', async () => {
      const st = statement();
      const path = st.predicate.paths.find((x): x is Srv6PathUse => isSrv6Path(x) && x.hmac.status === 'VERIFIED');
      assert.ok(path);
      const { fingerprint: _f, counts: _c, ...entry } = path;
      entry.hops[1].country = 'CH';
      const key = srv6Key(entry);
      path.fingerprint = key;
      resign(st);
      const r = await verify();
      // The evidence lines still name the old key, which the predicate no longer lists.
      assert.ok(checks(r).includes('evidence.paths'), checks(r).join(', '));
    });

    it('an evidence line moved onto another SRv6 path', async () => {
      const ls = lines();
      const keys = [...new Set(ls.map((l) => (JSON.parse(l) as { path: string }).path))];
      const i = ls.findIndex((l) => l.includes(keys[0]));
      ls[i] = ls[i].replace(keys[0], keys[1]);
      writeFileSync(join(out, EVIDENCE_NAME), ls.map((l) => `${l}\n`).join(''));
      const c = checks(await verify());
      for (const k of ['evidence.merkleRoot', 'evidence.paths', 'evidence.sha256']) assert.ok(c.includes(k), c.join(', '));
    });
  });

  it('a peer\'s SRv6 path entry is taken only when its key is its digest', () => {
    const entry = srv6Entry(flows()[1].srv6Path!);
    const listed = { fingerprint: srv6Key(entry), ...entry };
    assert.deepEqual(parsePathEntry(pathEntryBytes(listed)), listed);
    const forged = { ...listed, segments: [...listed.segments] };
    forged.segments[1] = 'fc00:0:4::1';
    assert.throws(() => parsePathEntry(pathEntryBytes(forged)), /the key is not the digest of its entry/);
    assert.throws(() => parsePathEntry(pathEntryBytes({ ...listed, hops: listed.hops.map((h) => ({ ...h, asn: -1 })) })), /SRv6 path entry lacks a field/);
    const badSegment = { ...entry, segments: ['not-an-address', ...entry.segments.slice(1)] };
    assert.throws(() => parsePathEntry(pathEntryBytes({ fingerprint: srv6Key(badSegment), ...badSegment })), /segmentsFingerprint is not the SHA-256/);
  });
});
