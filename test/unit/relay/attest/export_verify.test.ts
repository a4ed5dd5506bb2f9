// Export from a real embedded store, verify, and catch tampering in each place. The
// expected totals are computed here straight from the flows that went into the store.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GeofenceVerdict, ScionObservationPoint, WanPathType, type Flow } from '../../../../proto/gen/flow/flow';
import { formatDate } from '../../../../relay/attest/canonical_flow';
import { srv6Entry, srv6Key } from '../../../../relay/attest/evidence_row';
import { isSrv6Path } from '../../../../relay/attest/predicate';
import { parseEnvelope, signEnvelope, type Envelope } from '../../../../relay/attest/dsse';
import { storeIdentity } from '../../../../relay/attest/export';
import { ENVELOPE_NAME, readEvidence, REPORT_NAME } from '../../../../relay/attest/files';
import { flowInclusion } from '../../../../relay/attest/inclusion';
import { signPayload } from '../../../../relay/attest/sign';
import { EVIDENCE_NAME, statementBytes, type Statement } from '../../../../relay/attest/statement';
import { verifyAttestation, type VerifyResult } from '../../../../relay/attest/verify';
import { openStore, type FlowStore } from '../../../../relay/store/store';
import { CORPUS_START_MS, corpus, exportTo, fill } from './fixture';

const N = 3000;

function expected(flows: Flow[], sinceMs: number, untilMs: number) {
  const inWindow = (f: Flow): boolean => {
    const ns = (f.time?.seconds ?? 0n) * 1_000_000_000n + BigInt(f.time?.nanos ?? 0);
    return ns >= BigInt(sinceMs) * 1_000_000n && ns < BigInt(untilMs + 1) * 1_000_000n;
  };
  const sel = flows.filter(
    (f) => f.source?.labels.includes('k8s:app=ledger') && inWindow(f)
      && f.scionObservationPoint !== ScionObservationPoint.SCION_EDGE_DECAP && f.scionObservationPoint !== ScionObservationPoint.SCION_ROUTER_FORWARD,
  );
  const countries = new Map<string, bigint>();
  for (const f of sel) {
    // A flow counts once for each country its path crosses, by SCION hop or by SRv6 segment node.
    const hops = f.pathType === WanPathType.WAN_PATH_SRV6 ? f.srv6Path?.hops : f.scionPath?.hops;
    for (const c of new Set(hops?.map((h) => h.country) ?? [])) countries.set(c, (countries.get(c) ?? 0n) + (f.meter?.packets ?? 0n));
  }
  return {
    flows: sel.length,
    packets: sel.reduce((s, f) => s + (f.meter?.packets ?? 0n), 0n).toString(),
    bytes: sel.reduce((s, f) => s + (f.meter?.bytes ?? 0n), 0n).toString(),
    violations: sel.filter((f) => f.geofence?.verdict === GeofenceVerdict.GEOFENCE_VIOLATION).map((f) => f.uuid).sort(),
    unverified: sel.filter((f) => f.geofence?.verdict === GeofenceVerdict.GEOFENCE_UNVERIFIED).length,
    srv6Paths: [...new Set(sel.flatMap((f) => (f.pathType === WanPathType.WAN_PATH_SRV6 && f.srv6Path ? [srv6Key(srv6Entry(f.srv6Path))] : [])))].sort(),
    countryPackets: Object.fromEntries([...countries].map(([c, p]) => [c, p.toString()])),
  };
}

describe('relay/attest export and verify (embedded chdb)', function () {
  this.timeout(120_000);
  const flows = corpus(N);
  const ed = generateKeyPairSync('ed25519');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let dataDir: string;
  let out: string;
  let store: FlowStore;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cillion-attest-store-'));
    store = await openStore({ dataDir });
    await fill(store, flows);
  });
  after(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'cillion-attest-out-'));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
  }
  /** Verifies here, and again in two worker threads over 4 KiB reads (runs of lines, lines split across reads): both must agree. */
  const verify = async (key: KeyObject, evidence = true, dir = out): Promise<VerifyResult> => {
    const input = { envelope: readFileSync(join(dir, ENVELOPE_NAME)), keys: [key] };
    const here = await verifyAttestation({ ...input, evidence: evidence ? readEvidence(join(dir, EVIDENCE_NAME)) : undefined });
    if (!evidence) return here;
    const workers = await verifyAttestation({ ...input, evidence: pieces(readFileSync(join(dir, EVIDENCE_NAME)), 4096), workers: 2 });
    assert.deepEqual({ ...workers, statement: undefined }, { ...here, statement: undefined });
    return here;
  };
  const checks = (r: VerifyResult): string[] => [...new Set(r.failures.map((f) => f.check))].sort();
  const envelope = (): Envelope => parseEnvelope(readFileSync(join(out, ENVELOPE_NAME)));
  const statement = (): Statement => JSON.parse(Buffer.from(envelope().payload, 'base64').toString()) as Statement;
  const resign = (st: Statement, key: KeyObject, payloadType?: string): void => {
    const env = signPayload(statementBytes(st), [key]);
    if (payloadType) env.payloadType = payloadType;
    writeFileSync(join(out, ENVELOPE_NAME), JSON.stringify(env));
  };
  const evidenceLines = (): string[] => readFileSync(join(out, EVIDENCE_NAME), 'utf8').split('\n').slice(0, -1);
  const writeEvidence = (lines: string[]): void => writeFileSync(join(out, EVIDENCE_NAME), lines.map((l) => `${l}\n`).join(''));

  for (const [name, kp] of [['Ed25519', ed], ['ECDSA P-256', ec]] as const) {
    it(`exports totals that match the flows stored and verifies (${name})`, async () => {
      const st = await exportTo(store, out, kp.privateKey);
      const want = expected(flows, CORPUS_START_MS + 1000, CORPUS_START_MS + 9000);
      const p = st.predicate;
      assert.ok(want.flows > 50, 'the window holds a fair number of flows');
      assert.equal(p.totals.flows, want.flows);
      assert.equal(p.totals.packets, want.packets);
      assert.equal(p.totals.bytes, want.bytes);
      assert.deepEqual(p.violations.map((v) => v.uuid).sort(), want.violations);
      assert.equal(p.unverified.length, want.unverified);
      // SRv6 rows' paths come from the store's srv6_path column: each one the relay stored is listed, whole.
      assert.ok(want.srv6Paths.length > 0, 'the window holds SRv6 flows');
      assert.deepEqual(p.paths.filter(isSrv6Path).map((x) => x.fingerprint).sort(), want.srv6Paths);
      assert.deepEqual(Object.fromEntries(p.countries.map((c) => [c.country, c.counts.packets])), want.countryPackets);
      assert.deepEqual(p.geofences.map((g) => [g.name, g.mode, g.specSha256?.length]), [['dach', 'audit', 64], ['eu-only', 'audit', 64]]);
      assert.equal(st.subject[0].digest.sha256, p.evidence.merkleRoot);
      const r = await verify(kp.publicKey);
      assert.deepEqual(r.failures, []);
      assert.ok(r.ok);
      assert.equal(r.evidenceFlows, want.flows);
      assert.match(readFileSync(join(out, REPORT_NAME), 'utf8'), new RegExp(`\\| flows \\| ${want.flows} \\|`));
    });
  }

  it('proves one flow\'s inclusion against the subject digest', async () => {
    const st = await exportTo(store, out, ed.privateKey);
    const inc = await flowInclusion(readEvidence(join(out, EVIDENCE_NAME)), 7);
    assert.equal(inc.root, st.subject[0].digest.sha256);
    assert.equal(inc.line, evidenceLines()[7]);
  });

  it('names the store it read: a directory, or a server URL without its user and password', () => {
    assert.deepEqual(storeIdentity({ dataDir: '/var/lib/cillion', database: 'cillion' }), { kind: 'chdb', location: '/var/lib/cillion', database: 'cillion' });
    assert.deepEqual(storeIdentity({ url: 'https://auditor:s3cret@clickhouse.example:8443/?compress=1', database: 'flows' }), { kind: 'clickhouse', location: 'https://clickhouse.example:8443/?compress=1', database: 'flows' });
  });

  describe('tampering', () => {
    beforeEach(async () => {
      await exportTo(store, out, ed.privateKey);
    });

    it('a payload byte', async () => {
      const env = envelope();
      const b = Buffer.from(env.payload, 'base64');
      b[b.indexOf('"flows":') + 8] ^= 1;
      env.payload = b.toString('base64');
      writeFileSync(join(out, ENVELOPE_NAME), JSON.stringify(env));
      assert.ok(checks(await verify(ed.publicKey)).includes('signature'));
    });

    it('the signature', async () => {
      const env = envelope();
      const s = Buffer.from(env.signatures[0].sig, 'base64');
      s[5] ^= 0x80;
      env.signatures[0].sig = s.toString('base64');
      writeFileSync(join(out, ENVELOPE_NAME), JSON.stringify(env));
      assert.deepEqual(checks(await verify(ed.publicKey)), ['signature']);
    });

    it('the wrong key', async () => {
      assert.deepEqual(checks(await verify(ec.publicKey)), ['signature']);
    });

    it('the wrong payload type, even when signed so', async () => {
      resign(statement(), ed.privateKey, 'application/json');
      assert.deepEqual(checks(await verify(ed.publicKey)), ['payloadType', 'signature']);
      // Signed under the other type for real, so only the type check can object.
      writeFileSync(join(out, ENVELOPE_NAME), JSON.stringify(signEnvelope(statementBytes(statement()), 'application/json', [ed.privateKey])));
      assert.deepEqual(checks(await verify(ed.publicKey)), ['payloadType']);
    });

    it('a flow changed in the evidence', async () => {
      const lines = evidenceLines();
      const i = lines.findIndex((l) => (JSON.parse(l) as { path: string }).path !== '');
      lines[i] = lines[i].replace(/"packets":"(\d+)"/, (_m, n: string) => `"packets":"${BigInt(n) + 1n}"`);
      writeEvidence(lines);
      assert.deepEqual(checks(await verify(ed.publicKey)), ['evidence.ases', 'evidence.countries', 'evidence.merkleRoot', 'evidence.paths', 'evidence.sha256', 'evidence.totals']);
    });

    it('a flow removed from the evidence', async () => {
      const lines = evidenceLines();
      writeEvidence([...lines.slice(0, 10), ...lines.slice(11)]);
      const c = checks(await verify(ed.publicKey));
      for (const k of ['evidence.merkleRoot', 'evidence.sha256', 'evidence.flows', 'evidence.totals']) assert.ok(c.includes(k), `${k} in ${c.join(', ')}`);
    });

    it('a flow added to the evidence', async () => {
      const lines = evidenceLines();
      writeEvidence([...lines, lines[lines.length - 1]]);
      const c = checks(await verify(ed.publicKey));
      for (const k of ['evidence.merkleRoot', 'evidence.sha256', 'evidence.flows', 'evidence.totals']) assert.ok(c.includes(k), `${k} in ${c.join(', ')}`);
    });

    it('flows out of order, and a line that is no evidence', async () => {
      const lines = evidenceLines();
      const swapped = [...lines.slice(0, 3), lines[40], ...lines.slice(4, 40), lines[3], ...lines.slice(41)];
      swapped[60] = '{"not":"a flow"}';
      writeEvidence(swapped);
      const r = await verify(ed.publicKey);
      assert.ok(checks(r).includes('evidence.order') && checks(r).includes('evidence.format'), checks(r).join(', '));
      assert.deepEqual(r.failures.filter((f) => f.check === 'evidence.order' || f.check === 'evidence.format').map((f) => f.message.replace(/:.*/, '')), ['line 5', 'line 41', 'line 61']);
      // Every line out of order: ten are listed, the rest counted.
      writeEvidence([...lines].reverse());
      const all = await verify(ed.publicKey);
      assert.equal(all.failures.filter((f) => f.check === 'evidence.order').length, 11);
      assert.ok(all.failures.some((f) => f.message === `... and ${lines.length - 1 - 10} more lines`));
    });

    it('a line that is not UTF-8, and one that is canonical only with escapes', async () => {
      const lines = evidenceLines();
      // A label with a quote and a backslash: canonical, but only the full parse reads it; then a byte no UTF-8 text holds.
      lines[2] = lines[2].replace('"k8s:app=', '"k8s:\\"app\\\\=');
      const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
      bytes[bytes.indexOf('"k8s:app=') + 5] = 0xff;
      writeFileSync(join(out, EVIDENCE_NAME), bytes);
      const r = await verify(ed.publicKey);
      const format = r.failures.filter((f) => f.check === 'evidence.format').map((f) => f.message);
      assert.deepEqual(format, ['line 1: not UTF-8 text'], r.failures.map((f) => `${f.check} ${f.message}`).join('\n'));
      // The escaped line was read (its labels no longer match the selector), not refused.
      assert.deepEqual(r.failures.filter((f) => f.check === 'evidence.selector').map((f) => f.message.replace(/:.*/, '')), ['line 3']);
    });

    it('a violation dropped from the predicate and re-signed', async () => {
      const st = statement();
      st.predicate.violations.pop();
      resign(st, ed.privateKey);
      assert.deepEqual(checks(await verify(ed.publicKey, false)), ['predicate.violations']);
      assert.ok(checks(await verify(ed.publicKey)).includes('evidence.violations'));
    });

    it('totals that do not add up, re-signed', async () => {
      const st = statement();
      st.predicate.countries[0].counts.bytes = '1';
      st.predicate.totals.packets = (BigInt(st.predicate.totals.packets) + 5n).toString();
      resign(st, ed.privateKey);
      assert.deepEqual(checks(await verify(ed.publicKey, false)), ['predicate.countries', 'predicate.totals']);
    });

    it('a narrower window than the evidence, re-signed', async () => {
      const st = statement();
      st.predicate.window.to = formatDate(new Date(CORPUS_START_MS + 5000));
      resign(st, ed.privateKey);
      assert.deepEqual(checks(await verify(ed.publicKey)), ['evidence.window']);
    });

    it('a geofence spec that is not its digest, re-signed', async () => {
      const st = statement();
      (st.predicate.geofences[0].spec as { mode: string }).mode = 'enforce';
      resign(st, ed.privateKey);
      assert.deepEqual(checks(await verify(ed.publicKey, false)), ['predicate.geofences']);
    });

    it('relays named in a form that is no coverage, re-signed; an older statement without them still verifies', async () => {
      const st = statement();
      assert.deepEqual(st.predicate.relays, { covered: [{ name: 'test-relay', cluster: '', version: '0.0.0', store: st.predicate.store }], sharedStoreWith: [], missing: [], duplicates: 0, conflicts: 0 });
      assert.equal(st.predicate.relay.signingKey, null);
      (st.predicate.relays.missing as unknown[]).push({ name: 'b' });
      resign(st, ed.privateKey);
      assert.deepEqual(checks(await verify(ed.publicKey, false)), ['predicate']);
      const older = statement();
      delete (older.predicate as Partial<typeof older.predicate>).relays;
      resign(older, ed.privateKey);
      assert.deepEqual(checks(await verify(ed.publicKey)), []);
    });
  });
});
