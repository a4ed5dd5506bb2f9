// A collector that lies about paths, against the real relay over mutual TLS with the
// embedded store: a node with a valid collector certificate sends forged fingerprints, fake geo, forged verdicts and hop fields nobody authorised.
// Meanwhile an honest collector keeps exporting; its flows must be stored and judged
// right throughout.
import assert from 'node:assert/strict';
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectorySource } from '../../../../operator/sources/directory';
import { flowLabels, workloadLabels } from '../../../../identity/workload_labels';
import { EmbeddedAuthority } from '../../../../paths/embedded';
import { Flow, GeofenceMode, GeofenceVerdict, type ScionPath } from '../../../../proto/gen/flow/flow';
import { ObserverClient } from '../../../../proto/gen/observer/observer';
import { nsTimestamp } from '../../../../observer/time';
import { startRelay, type Relay } from '../../../../relay/server';
import { openStore, type FlowStore } from '../../../../relay/store/store';
import { encodeScionPathBytes } from '../../../../scion/path/raw';
import { until } from '../../../until';
import { FakeCollector } from '../exporter_client';
import { issue, makeCerts } from '../test_certs';
import { getFlows, readAll, serverStatus } from '../../observer/helpers';
import { europeAndUs, EU_CH_FENCE, exampleControlPlane, honestPath } from '../../paths/fixture';


const CONTROL = exampleControlPlane();
const { europe, viaUs } = europeAndUs(CONTROL);
const EUROPE = honestPath(europe);
const VIA_US = honestPath(viaUs);
const ANALYTICS = flowLabels('analytics', workloadLabels('analytics', { app: 'analytics' }, {}));
const WEB = flowLabels('web', workloadLabels('web', { app: 'web' }, {}));

const FORGED_FENCE = { verdict: GeofenceVerdict.GEOFENCE_COMPLIANT, name: 'forged', namespace: 'x', mode: GeofenceMode.GEOFENCE_ENFORCE, reason: 'trust me', offendingIsdAs: '', offendingCountry: '' };

/** US hop fields dressed as the European path: its fingerprint, its hops and geo, "known". */
const DISGUISED: ScionPath = { ...EUROPE, raw: VIA_US.raw };

let next = 0;
function flow(scionPath: ScionPath | undefined, labels = ANALYTICS, namespace = 'analytics'): Flow {
  const i = next++;
  return Flow.fromPartial({
    time: nsTimestamp(BigInt(Date.now()) * 1_000_000n + BigInt(i)),
    uuid: `00000000-0000-4000-8000-${i.toString().padStart(12, '0')}`,
    IP: { source: '10.1.0.5', destination: '10.2.0.9', ipVersion: 1 },
    source: { namespace, podName: `${namespace}-0`, labels, clusterName: 'c1' },
    scionPath,
    geofence: FORGED_FENCE,
  });
}

describe('relay/hostile: forged paths and verdicts', function () {
  this.timeout(60_000);
  let dir: string;
  let store: FlowStore;
  let resources: DirectorySource;
  let relay: Relay;
  let client: ObserverClient;
  let honest: FakeCollector;
  let mallory: FakeCollector;
  /** The honest collector's flows sent so far, by uuid, with the verdict each must get. */
  const honestWant = new Map<string, GeofenceVerdict>();
  let honestTimer: NodeJS.Timeout | undefined;
  let honestStopped = false;
  /** The honest node's batch in flight; it records a failure rather than throw outside any test. */
  let honestSending: Promise<void> = Promise.resolve();
  let honestFailure: Error | undefined;

  /** When the suite began: reads start there, oldest first, so none scans the store back to its beginning. */
  const since = nsTimestamp(BigInt(Date.now() - 1000) * 1_000_000n);

  /**
   * Stored flows by uuid, read once for all a test needs: the store serves reads and the
   * collectors' inserts in turn, so every read delays the honest node's acknowledgements.
   */
  async function stored(): Promise<Map<string, Flow>> {
    const got = await readAll(getFlows(client, { since, first: true, number: 100_000n }));
    return new Map(got.flatMap((r) => (r.responseTypes?.$case === 'flow' ? [[r.responseTypes.value.uuid, r.responseTypes.value] as const] : [])));
  }

  async function storedEach(fs: Flow[]): Promise<Flow[]> {
    const all = await stored();
    return fs.map((f) => {
      const s = all.get(f.uuid);
      assert.ok(s, `flow ${f.uuid} was stored`);
      return s;
    });
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-forgery-'));
    writeFileSync(join(dir, 'fence.yaml'), EU_CH_FENCE);
    resources = new DirectorySource(dir);
    await resources.list();
    store = await openStore({ dataDir: join(dir, 'store') });
    makeCerts(dir);
    const tls = { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), clientCa: join(dir, 'ca.pem') };
    relay = await startRelay({ listen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', store, resources, tls, paths: new EmbeddedAuthority(CONTROL), mergeWindowMs: 50, shutdownGraceMs: 200 });
    // The server certificate names localhost; each client has a certificate of its own role.
    const address = relay.address.replace('127.0.0.1', 'localhost');
    const creds = (out: string, name: string, role: 'collector' | 'reader'): ChannelCredentials => {
      const c = issue(dir, out, name, [role]);
      return credentials.createSsl(readFileSync(join(dir, 'ca.pem')), readFileSync(c.key), readFileSync(c.cert));
    };
    client = new ObserverClient(address, creds('reader', 'auditor', 'reader'));
    await until('the eu-ch fence loaded', () => relay.geofences.get('eu-ch') !== undefined);
    honest = new FakeCollector(address, 'honest-node', undefined, creds('honest', 'honest-node', 'collector'));
    mallory = new FakeCollector(address, 'mallory-node', undefined, creds('mallory', 'mallory-node', 'collector'));
    // The honest node exports alternating European and US flows for as long as the suite runs,
    // one batch in flight as a collector keeps it: the next goes 50 ms after the last one's
    // acknowledgement, so a slow store slows the sender instead of piling batches on it.
    const tick = (): void => {
      const eu = flow(EUROPE);
      const us = flow(VIA_US);
      honestWant.set(eu.uuid, GeofenceVerdict.GEOFENCE_COMPLIANT);
      honestWant.set(us.uuid, GeofenceVerdict.GEOFENCE_VIOLATION);
      honestSending = honest.acked(honest.send([eu, us])).then(
        () => {
          if (!honestStopped) honestTimer = setTimeout(tick, 50);
        },
        (e: Error) => {
          honestFailure = e;
        },
      );
    };
    tick();
  });

  after(async () => {
    honestStopped = true;
    if (honestTimer) clearTimeout(honestTimer);
    await honestSending;
    client?.close();
    await honest?.close();
    await mallory?.close();
    await relay?.close();
    await resources?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('(b) a poisoned fingerprint sent first does not turn later honest European flows into VIOLATION', async () => {
    // Mallory sends US hop fields under the European fingerprint before anyone else's flows
    // on that path are judged: an engine caching by the sent fingerprint would remember US hops for it.
    const poison = [flow(DISGUISED), flow(DISGUISED)];
    await mallory.acked(mallory.send(poison));
    const later = [flow(EUROPE), flow(EUROPE)];
    await mallory.acked(mallory.send(later));
    const got = await storedEach([...later, ...poison]);
    for (const s of got.slice(0, later.length)) {
      assert.equal(s.geofence?.verdict, GeofenceVerdict.GEOFENCE_COMPLIANT);
      assert.equal(s.scionPath?.fingerprint, europe.fingerprint);
    }
    for (const s of got.slice(later.length)) assert.equal(s.geofence?.verdict, GeofenceVerdict.GEOFENCE_VIOLATION);
  });

  it('(a) US hop fields sent with the fingerprint and fake geo of a European path are a VIOLATION', async () => {
    const forged = flow(DISGUISED);
    await mallory.acked(mallory.send([forged]));
    const [s] = await storedEach([forged]);
    assert.equal(s.geofence?.verdict, GeofenceVerdict.GEOFENCE_VIOLATION);
    assert.equal(s.geofence?.name, 'eu-ch');
    assert.equal(s.geofence?.offendingCountry, 'US');
    // The stored path is the one the hop fields give, not the one the collector described.
    assert.equal(s.scionPath?.fingerprint, viaUs.fingerprint);
    assert.deepEqual(s.scionPath?.hops.map((h) => h.country), VIA_US.hops.map((h) => h.country));
    assert.deepEqual(s.scionPath?.raw, VIA_US.raw);
  });

  it('(c) forged geofence and verdict fields are overwritten', async () => {
    // Under the fence: the verdict and the fence are the relay's.
    const fenced = flow(EUROPE);
    // Under no fence: no verdict at all, whatever the collector claimed.
    const unfenced = flow(VIA_US, WEB, 'web');
    // A forged "known" with geo the hop fields do not have.
    const lying: ScionPath = { ...VIA_US, hops: EUROPE.hops, knownToControlPlane: true };
    const liar = flow(lying);
    await mallory.acked(mallory.send([fenced, unfenced, liar]));
    const [f, u, l] = await storedEach([fenced, unfenced, liar]);
    assert.deepEqual(
      { verdict: f.geofence?.verdict, name: f.geofence?.name, mode: f.geofence?.mode, reason: f.geofence?.reason },
      { verdict: GeofenceVerdict.GEOFENCE_COMPLIANT, name: 'eu-ch', mode: GeofenceMode.GEOFENCE_AUDIT, reason: `all ${EUROPE.hops.length} hops are inside the fence` },
    );
    assert.equal(u.geofence, undefined);
    assert.equal(l.geofence?.verdict, GeofenceVerdict.GEOFENCE_VIOLATION);
    assert.deepEqual(l.scionPath?.hops.map((h) => h.isdAs), VIA_US.hops.map((h) => h.isdAs));
  });

  it('(d) hop fields that match no authorised segment, or none at all, are UNVERIFIED', async () => {
    // A MAC changed: no AS authorised these hop fields.
    const badMac = Buffer.from(EUROPE.raw);
    badMac[badMac.length - 1] ^= 0xff;
    // The right interfaces from a beaconing round long gone (info field timestamp a day back).
    const stale = europe.path.infoFields.map((inf) => ({ ...inf, timestamp: inf.timestamp - 8 * (CONTROL.roundPeriod ?? 0) }));
    const oldRound = Buffer.from(encodeScionPathBytes({ ...europe.path, infoFields: stale }));
    // European hop fields claimed between other ASes.
    const wrongEnds: ScionPath = { ...EUROPE, srcIa: '65-2:0:20', dstIa: '64-2:0:20' };
    const flows = [flow({ ...EUROPE, raw: badMac }), flow({ ...EUROPE, raw: oldRound }), flow(wrongEnds), flow({ ...EUROPE, raw: Buffer.alloc(0) }), flow({ ...EUROPE, raw: Buffer.from([1, 2, 3]) })];
    await mallory.acked(mallory.send(flows));
    const reasons = [];
    for (const [i, s] of (await storedEach(flows)).entries()) {
      const f = flows[i];
      assert.equal(s.geofence?.verdict, GeofenceVerdict.GEOFENCE_UNVERIFIED, `flow ${f.uuid}`);
      assert.equal(s.scionPath?.knownToControlPlane, false);
      assert.equal(s.scionPath?.fingerprint, '');
      assert.ok(s.scionPath?.hops.every((h) => h.geo === undefined && h.country === ''), 'no geo for hops nobody vouched for');
      reasons.push(s.geofence?.reason);
    }
    const notKnown = 'the path is not known to the control plane: its hop fields match no segment it handed out';
    assert.deepEqual(reasons, [notKnown, notKnown, notKnown, 'the flow carries no hop fields', "the flow's path bytes or ISD-ASes do not decode"]);
  });

  it('(e) counts fingerprint mismatches per node in /metrics and ServerStatus; the honest node is stored and judged right', async () => {
    // Mallory named a fingerprint its hop fields do not give in: 2 poisoned, 1 disguised, and
    // all 5 of (d), whose hop fields give none (the liar of (c) sent the US fingerprint).
    const want = 8n;
    const text = await (await fetch(`http://${relay.metricsAddress}/metrics`)).text();
    assert.ok(text.split('\n').includes(`cillion_path_fingerprint_mismatches_total{node="mallory-node"} ${want}`), text.split('\n').filter((l) => l.includes('mismatch')).join('\n'));
    assert.ok(!text.includes('cillion_path_fingerprint_mismatches_total{node="honest-node"}'));
    const { res } = await serverStatus(client);
    assert.deepEqual(res.fingerprintMismatches, [{ nodeName: 'mallory-node', count: want }]);

    honestStopped = true;
    if (honestTimer) clearTimeout(honestTimer);
    await honestSending;
    assert.equal(honestFailure, undefined);
    assert.ok(honestWant.size >= 10, `the honest node sent ${honestWant.size} flows meanwhile`);
    const all = await stored();
    for (const [uuid, verdict] of honestWant) {
      const s = all.get(uuid);
      assert.ok(s, `honest flow ${uuid} stored`);
      assert.equal(s.geofence?.verdict, verdict, `honest flow ${uuid}`);
    }
  });
});
