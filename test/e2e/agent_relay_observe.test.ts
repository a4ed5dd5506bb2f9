// Agents, relay and `cillion observe` as real processes on loopback, fed by the real
// datapath: the WAN of examples/topology.yaml in namespaces, the Zurich and Frankfurt
// edges taken over by two `cillion agent`s, pods sending UDP and TCP. What the person at
// the terminal sees must be the traffic that was sent, with its path, countries and
// geofence verdict; a relay restart loses and duplicates nothing. The relay judges paths
// from the flows' hop fields against its own control plane (--topology), and a fence that
// selects workloads by a namespace label is both enforced by the agent and judged at the relay.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, status as grpcStatus } from '@grpc/grpc-js';
import { EmbeddedPathService } from '../../controlplane/pathservice';
import { loadTopology } from '../../controlplane/topology';
import { clusterIdOf } from '../../identity/cluster_scope';
import { describePath } from '../../paths/describe';
import { GetFlowsRequest, ObserverClient } from '../../proto/gen/observer/observer';
import { formatIA, parseIA, type IA } from '../../scion/isdas';
import { requireDatapath } from '../datapath/harness/require';
import { echoServer, tcpEcho, udpEcho } from '../datapath/harness/traffic';
import { Wan } from '../datapath/harness/wan';
import { allocateIdentities, cli, Proc, ROOT, SERVING, until } from './procs';
import type { Statement } from '../../relay/attest/statement';
import type { CanonicalFlow } from '../../relay/attest/canonical_flow';
import { isSrv6Path } from '../../relay/attest/predicate';

const TOPOLOGY = join(ROOT, 'examples', 'topology.yaml');
const ZRH = parseIA('64-2:0:20');
const FRA = parseIA('65-2:0:20');
/** What the eu-plus-ch fence allows: the 27 EU member states and Switzerland. */
const EU_PLUS_CH = new Set('AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE CH'.split(' '));
/** The edge meters a packet as tc egress sees it: Ethernet, IPv4 and UDP headers, then the payload. */
const UDP_FRAME_OVERHEAD = 14 + 20 + 8;

interface JsonFlow {
  nodeName?: string;
  source?: { podName?: string; namespace?: string; identity?: number };
  destination?: { podName?: string; identity?: number };
  identityExtension?: { identity?: number; check?: string };
  IP?: { source: string; destination: string };
  l4?: { UDP?: { sourcePort: number }; TCP?: { sourcePort: number } };
  uuid?: string;
  scionPath?: { hops?: Array<{ isdAs?: string; ia?: string; country?: string }>; knownToControlPlane?: boolean };
  geofence?: { verdict?: string; name?: string };
  meter?: { packets?: string; bytes?: string };
  [k: string]: unknown;
}

async function observeJson(args: string[]): Promise<JsonFlow[]> {
  const r = await cli(['observe', ...args, '-o', 'json']);
  assert.equal(r.code, 0, `cillion observe ${args.join(' ')}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { flow?: JsonFlow })
    .flatMap((r) => (r.flow ? [r.flow] : []));
}

const hopIAs = (f: JsonFlow): string[] => (f.scionPath?.hops ?? []).map((h) => String(h.isdAs ?? h.ia ?? ''));
const srcPort = (f: JsonFlow): number | undefined => f.l4?.UDP?.sourcePort ?? f.l4?.TCP?.sourcePort;

function pod(name: string, namespace: string, app: string, node: string, ip: string): string {
  return `apiVersion: v1\nkind: Pod\nmetadata: { name: ${name}, namespace: ${namespace}, labels: { app: ${app} } }\nspec: { nodeName: ${node} }\nstatus: { podIP: ${ip} }\n`;
}

function clusterAS(name: string, ia: IA, wan: Wan, ifids: number[]): string {
  const uplinks = ifids.map((i) => {
    const f = wan.iface(ia, i);
    return `    - interface: ${i}\n      underlay: ${f.remote.ip}:${f.remote.port}\n`;
  });
  return `apiVersion: cillion.io/v1alpha1\nkind: ClusterAS\nmetadata:\n  name: ${name}\nspec:\n  isdAS: ${formatIA(ia)}\n  clusterId: ${name === 'frankfurt' ? 2 : 1}\n  uplinks:\n${uplinks.join('')}  controlPlane:\n    topology: ${TOPOLOGY}\n`;
}

describe('e2e: agents, relay and cillion observe over the real datapath', function () {
  requireDatapath(this);
  this.timeout(240000);
  const prefix = `cile2e${process.pid}`;
  let wan: Wan | undefined;
  let dir: string;
  const procs: Proc[] = [];
  let relayArgs: string[];
  let relayAddr: string;
  let relay: Proc;
  let zrhSocket: string;
  const billingPort = 46100;
  const replicationPort = 46200;
  const duringOutagePort = 46300;
  const replication = { count: 15, size: 900 };
  /** The ledger pod's flows, one per source port: enough that any non-compliant path in its set would show. */
  const ledgerPorts = Array.from({ length: 12 }, (_, i) => 46400 + i);
  let flows: JsonFlow[] = [];

  before(async () => {
    Wan.sweep(prefix);
    dir = mkdtempSync(join(tmpdir(), 'cile2e-'));
    const w = new Wan([...loadTopology(TOPOLOGY).ases.keys()], { prefix }).build([ZRH, FRA]);
    wan = w;
    w.addPod('billing', ZRH, '10.164.0.5', 1);
    w.addPod('repl', ZRH, '10.164.0.6', 1);
    w.addPod('ledger', ZRH, '10.164.0.8', 1);
    const echo = w.addPod('echo', FRA, '10.165.0.7', 1);
    // Each node's stack hands remote-cluster traffic to an uplink; tc egress picks the path.
    w.hosts.exec(w.asNs.get(ZRH) as string, 'ip', ['route', 'replace', '10.165.0.0/16', 'via', w.iface(ZRH, 1).remote.ip, 'dev', 'if1']);
    w.hosts.exec(w.asNs.get(FRA) as string, 'ip', ['route', 'replace', '10.164.0.0/16', 'via', w.iface(FRA, 1).remote.ip, 'dev', 'if1']);

    const zrhRes = join(dir, 'zurich');
    const fraRes = join(dir, 'frankfurt');
    mkdirSync(zrhRes);
    mkdirSync(fraRes);
    writeFileSync(join(zrhRes, 'cluster.yaml'), clusterAS('zurich', ZRH, w, [1, 2]));
    for (const f of ['remote-clusters.yaml', 'billing.yaml', 'replication.yaml']) copyFileSync(join(ROOT, 'examples', 'policies', 'zurich', f), join(zrhRes, f));
    // The ledger is selected by its namespace's label alone, by its policy and by its fence.
    // The policy wants paths via the Amsterdam core (65-2:0:11) and takes 8 of them; most
    // also cross France or the US, which the enforcing fence must remove.
    writeFileSync(
      join(zrhRes, 'ledger.yaml'),
      [
        'apiVersion: cillion.io/v1alpha1\nkind: WANPathPolicy\nmetadata:\n  name: ledger\nspec:\n  workloadSelector:\n    namespaceSelector:\n      matchLabels:\n        compliance: strict\n  destinations:\n    - cluster: frankfurt\n  pathPolicy:\n    sequence: "0* 65-2:0:11 0*"\n  preference: latency\n  mode: multipath\n  paths: 8\n',
        'apiVersion: cillion.io/v1alpha1\nkind: Geofence\nmetadata:\n  name: strict-ch-de\nspec:\n  workloadSelector:\n    namespaceSelector:\n      matchLabels:\n        compliance: strict\n  allow:\n    countries: [CH, DE, NL]\n  mode: enforce\n',
      ].join('---\n'),
    );
    writeFileSync(join(fraRes, 'cluster.yaml'), clusterAS('frankfurt', FRA, w, [1, 2, 3]));
    copyFileSync(join(ROOT, 'examples', 'policies', 'frankfurt', 'remote-clusters.yaml'), join(fraRes, 'remote-clusters.yaml'));
    writeFileSync(
      join(fraRes, 'replies.yaml'),
      'apiVersion: cillion.io/v1alpha1\nkind: WANPathPolicy\nmetadata:\n  name: replies\nspec:\n  workloadSelector:\n    namespaceSelector:\n      matchLabels:\n        kubernetes.io/metadata.name: shop\n    podSelector:\n      matchLabels:\n        app: echo\n  destinations:\n    - cluster: zurich\n  preference: latency\n  mode: single\n',
    );
    writeFileSync(
      join(dir, 'zrh-pods.yaml'),
      [
        pod('billing-0', 'shop', 'billing', 'zrh-1', '10.164.0.5'),
        pod('replication-0', 'db', 'replication', 'zrh-1', '10.164.0.6'),
        pod('ledger-0', 'vault', 'ledger', 'zrh-1', '10.164.0.8'),
        'apiVersion: v1\nkind: Namespace\nmetadata: { name: vault, labels: { compliance: strict } }\n',
      ].join('---\n'),
    );
    writeFileSync(join(dir, 'fra-pods.yaml'), pod('echo-0', 'shop', 'echo', 'fra-1', '10.165.0.7'));

    // The relay signs attestations with its own key; the client key signs one export locally.
    for (const [name, pair] of [['relay', generateKeyPairSync('ed25519')], ['client', generateKeyPairSync('ec', { namedCurve: 'P-256' })]] as const) {
      writeFileSync(join(dir, `${name}.pem`), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      writeFileSync(join(dir, `${name}.pub`), pair.publicKey.export({ type: 'spki', format: 'pem' }));
    }

    const relayArgsAt = (listen: string): string[] => [
      'relay', '--no-ui', '--listen', listen, '--metrics', '', '--data-dir', join(dir, 'store'), '--resources', zrhRes, '--topology', TOPOLOGY, '--merge-window', '200', '--attest-key', join(dir, 'relay.pem'),
    ];
    relay = new Proc('relay', relayArgsAt('127.0.0.1:0'));
    procs.push(relay);
    relayAddr = await relay.address(SERVING);
    // A restart comes back where the agents export to.
    relayArgs = relayArgsAt(relayAddr);

    zrhSocket = join(dir, 'zrh.sock');
    const agent = (node: string, ia: IA, res: string, pods: string, ifids: number[], socket: string): Proc =>
      new Proc(`agent ${node}`, [
        'agent', '--node', node, '--resources', res, '--workloads', join(dir, pods), '--netns', w.asNs.get(ia) as string,
        '--instance', w.edgeInstance(ia), '--state', join(res, '.state'), '--relay', relayAddr, '--observer-socket', socket,
        '--flow-idle', '1', '--flow-active', '2', ...ifids.flatMap((i) => ['--uplink', `${i}=if${i}:${w.iface(ia, i).port}`]),
      ]);
    // Each cluster's operator numbers its pods first: zurich under cluster id 1, frankfurt under 2.
    await allocateIdentities(zrhRes, join(dir, 'zrh-pods.yaml'), join(zrhRes, '.state'));
    await allocateIdentities(fraRes, join(dir, 'fra-pods.yaml'), join(fraRes, '.state'));
    const zrhAgent = agent('zrh-1', ZRH, zrhRes, 'zrh-pods.yaml', [1, 2], zrhSocket);
    const fraAgent = agent('fra-1', FRA, fraRes, 'fra-pods.yaml', [1, 2, 3], join(dir, 'fra.sock'));
    procs.push(zrhAgent, fraAgent);
    await Promise.all([zrhAgent.waitFor(/collecting/), fraAgent.waitFor(/collecting/)]);
    await relay.waitFor(/node fra-1 connected/);
    await relay.waitFor(/node zrh-1 connected/);

    await echoServer(w.hosts, echo.ns, 'udp', 7000, 200000);
    await echoServer(w.hosts, echo.ns, 'tcp', 7001, 200000);
    const billing = await udpEcho(w.pods.get('billing')?.ns as string, echo.ip, 7000, { count: 20, size: 200, srcPort: billingPort });
    assert.equal(billing.received, 20, `billing echoes:\n${zrhAgent.log}\n${fraAgent.log}`);
    const repl = await udpEcho(w.pods.get('repl')?.ns as string, echo.ip, 7000, { ...replication, srcPort: replicationPort });
    assert.equal(repl.received, replication.count, 'replication echoes');
    for (const port of ledgerPorts) {
      const ledger = await udpEcho(w.pods.get('ledger')?.ns as string, echo.ip, 7000, { count: 3, size: 100, srcPort: port });
      assert.equal(ledger.received, 3, `ledger echoes from port ${port}:\n${zrhAgent.log}`);
    }
    const tcp = await tcpEcho(w.pods.get('billing')?.ns as string, echo.ip, 7001, 50000);
    assert.equal(tcp.received, 50000, `TCP echo: ${tcp.error ?? ''}`);
    // Flows are reported after their idle timeout, then batched, stored and released.
    flows = await until(
      'billing and replication flows at the relay, from both edges',
      () => observeJson(['--server', relayAddr, '--last', '1000']),
      (fs) =>
        [billingPort, replicationPort].every((port) => ['zrh-1', 'fra-1'].every((node) => fs.some((f) => srcPort(f) === port && f.nodeName === node))) &&
        ledgerPorts.every((port) => fs.some((f) => srcPort(f) === port && f.nodeName === 'zrh-1')),
    );
  });

  after(async () => {
    for (const p of procs.reverse()) await p.stop();
    wan?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the flows at the relay with their SCION path, countries and geofence verdict', async () => {
    const billing = flows.find((f) => srcPort(f) === billingPort && f.nodeName === 'zrh-1') as JsonFlow;
    assert.equal(billing.source?.podName, 'billing-0');
    assert.equal(billing.source?.namespace, 'shop');
    assert.equal(billing.IP?.destination, '10.165.0.7');
    const ias = hopIAs(billing);
    assert.equal(ias[0], '64-2:0:20', JSON.stringify(billing.scionPath));
    assert.equal(ias[ias.length - 1], '65-2:0:20');
    assert.equal(billing.scionPath?.knownToControlPlane, true);
    assert.ok((billing.scionPath?.hops ?? []).every((h) => typeof h.country === 'string' && h.country.length === 2), 'every hop has a country');

    const repl = flows.find((f) => srcPort(f) === replicationPort && f.nodeName === 'zrh-1') as JsonFlow;
    assert.equal(repl.geofence?.name, 'eu-plus-ch');
    assert.equal(repl.geofence?.verdict, 'GEOFENCE_COMPLIANT');
    assert.ok(hopIAs(repl).every((ia) => !ia.startsWith('66-') && !ia.startsWith('67-')), 'replication stays out of the US and Singapore ISDs');

    // The receiving edge saw the same packets arrive, on a path the control plane handed out.
    const arrived = flows.find((f) => srcPort(f) === billingPort && f.nodeName === 'fra-1');
    assert.ok(arrived, 'the Frankfurt agent reported the billing flow arriving');
    assert.equal(arrived.scionPath?.knownToControlPlane, true);
    assert.deepEqual(hopIAs(arrived), ias);
    // Cluster-scoped identities, above 16 bits, carried whole: billing is zurich's (cluster id
    // 1), echo frankfurt's (2), and the number the Frankfurt edge read from the packet is billing's.
    const sent = billing.source?.identity ?? 0;
    assert.equal(clusterIdOf(sent), 1, `billing identity ${sent}`);
    assert.equal(clusterIdOf(arrived.destination?.identity ?? 0), 2, `echo identity ${arrived.destination?.identity}`);
    assert.equal(arrived.identityExtension?.identity, sent, JSON.stringify(arrived.identityExtension));
    // Every packet sent is counted once on each edge, whatever reports the flow was split into.
    const packets = (node: string, port: number): number =>
      flows.filter((f) => f.nodeName === node && srcPort(f) === port).reduce((n, f) => n + Number(f.meter?.packets ?? 0), 0);
    assert.equal(packets('zrh-1', billingPort), 20);
    assert.equal(packets('fra-1', billingPort), 20);
    assert.equal(packets('zrh-1', replicationPort), replication.count);
    // Bytes mean the same on both edges: the pod's frames, 20 of 242 bytes each.
    const bytes = (node: string, port: number): number =>
      flows.filter((f) => f.nodeName === node && srcPort(f) === port).reduce((n, f) => n + Number(f.meter?.bytes ?? 0), 0);
    assert.deepEqual([bytes('zrh-1', billingPort), bytes('fra-1', billingPort)], [20 * (UDP_FRAME_OVERHEAD + 200), 20 * (UDP_FRAME_OVERHEAD + 200)]);
  });

  it('enforces and judges a fence that selects by a namespace label', async () => {
    // Which paths via Amsterdam the fence allows, as the control plane describes them.
    const control = EmbeddedPathService.fromFile(TOPOLOGY);
    const allowed = new Set(
      control
        .pathsSync(ZRH, FRA)
        .filter((cp) => cp.ases.includes(parseIA('65-2:0:11')) && describePath(cp, 0).hops.every((h) => ['CH', 'DE', 'NL'].includes(h.country)))
        .map((cp) => cp.fingerprint),
    );
    assert.ok(allowed.size > 0);
    const ledger = flows.filter((f) => f.nodeName === 'zrh-1' && ledgerPorts.includes(srcPort(f) ?? -1));
    assert.equal(new Set(ledger.map(srcPort)).size, ledgerPorts.length);
    for (const f of ledger) {
      assert.equal(f.source?.namespace, 'vault');
      // Judged at the relay: the fence that selected the workload by its namespace label.
      assert.deepEqual([f.geofence?.name, f.geofence?.verdict], ['strict-ch-de', 'GEOFENCE_COMPLIANT'], JSON.stringify(f.geofence));
      // Enforced by the agent: every flow took one of the allowed paths, none via France or the US.
      const fp = (f.scionPath as { fingerprint?: string }).fingerprint ?? '';
      assert.ok(allowed.has(fp), `ledger flow on ${hopIAs(f).join(' ')} (${(f.scionPath?.hops ?? []).map((h) => h.country).join('-')})`);
    }
    // The flow carries the namespace's labels, exactly as the operator matched them.
    const labels = (ledger[0].source as { labels?: string[] }).labels ?? [];
    assert.ok(labels.includes('k8s:io.cilium.k8s.namespace.labels.compliance=strict'), labels.join(' '));
  });

  it('attests the replication traffic: the totals are the packets sent, on EU+CH paths, signed by the relay or the client', async () => {
    // As the walk-through in docs/attest.md: the last 10 minutes, the relay signing; then the same
    // window in RFC 3339, signed with the client's key.
    const relaySigned = join(dir, 'audit-relay');
    const byRelay = await cli(['attest', 'export', '--server', relayAddr, '--selector', 'app=replication', '--since', '10m', '--until', '0s', '--out', relaySigned]);
    assert.equal(byRelay.code, 0, byRelay.stderr);
    assert.equal(byRelay.stderr, '', 'no progress line when stderr is not a terminal');
    const envelope = JSON.parse(readFileSync(join(relaySigned, 'attestation.dsse.json'), 'utf8')) as { payload: string };
    const st = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Statement;
    const p = st.predicate;
    const window = p.query as { since: string; until: string };
    const clientSigned = join(dir, 'audit-client');
    const byClient = await cli(['attest', 'export', '--server', relayAddr, '--selector', 'app=replication', '--since', window.since, '--until', window.until, '--key', join(dir, 'client.pem'), '--out', clientSigned]);
    assert.equal(byClient.code, 0, byClient.stderr);
    assert.equal(readFileSync(join(clientSigned, 'flows.ndjson'), 'utf8'), readFileSync(join(relaySigned, 'flows.ndjson'), 'utf8'), 'both exports hold the same evidence');

    const lines = readFileSync(join(relaySigned, 'flows.ndjson'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as CanonicalFlow);
    assert.ok(lines.length > 0);
    for (const f of lines) {
      assert.deepEqual([f.node, f.point, f.proto, f.srcIp, f.srcPort, f.dstIp, f.dstPort, f.src.pod, f.verdict], ['zrh-1', 'SCION_EDGE_ENCAP', 'UDP', '10.164.0.6', replicationPort, '10.165.0.7', 7000, 'replication-0', 'FORWARDED']);
      assert.deepEqual(f.fence, { verdict: 'COMPLIANT', name: 'eu-plus-ch', reason: f.fence?.reason ?? '' });
    }
    const sentBytes = replication.count * (UDP_FRAME_OVERHEAD + replication.size);
    const sum = (key: 'packets' | 'bytes'): number => lines.reduce((n, f) => n + Number(f[key]), 0);
    assert.equal(sum('packets'), replication.count);
    assert.equal(sum('bytes'), sentBytes);
    assert.deepEqual(
      [p.totals.flows, p.totals.packets, p.totals.bytes, p.totals.compliant, p.totals.violation, p.totals.unverified, p.totals.unjudged],
      [lines.length, String(replication.count), String(sentBytes), lines.length, 0, 0, 0],
    );
    assert.match(byRelay.stdout, new RegExp(`^wrote ${relaySigned}: ${lines.length} flows \\(${replication.count} packets, ${sentBytes} bytes\\), 0 violations, 0 unverified; subject ${p.evidence.merkleRoot}\n$`));
    assert.deepEqual(p.noPath, { flows: 0, packets: '0', bytes: '0' });
    assert.deepEqual(p.geofences.map((g) => [g.name, g.mode, g.specSha256?.length]), [['eu-plus-ch', 'enforce', 64]]);
    assert.deepEqual(p.store, { kind: 'chdb', location: join(dir, 'store'), database: 'cillion' });

    // Every path is an authorised one from Zurich to Frankfurt inside the fence, and the
    // paths' counts add up to what was sent; so do the counts of every country crossed.
    assert.ok(p.paths.length > 0);
    const perCountry = new Map<string, { flows: number; packets: number; bytes: number }>();
    for (const path of p.paths) {
      assert.ok(!isSrv6Path(path), `path ${path.fingerprint} is SRv6`);
      assert.deepEqual([path.srcIa, path.dstIa, path.knownToControlPlane], ['64-2:0:20', '65-2:0:20', true]);
      const countries = new Set(path.hops.map((h) => h.country));
      for (const c of countries) assert.ok(EU_PLUS_CH.has(c), `path ${path.fingerprint} crosses ${c}`);
      const own = lines.filter((f) => f.path === path.fingerprint);
      assert.deepEqual(path.counts, { flows: own.length, packets: String(own.reduce((n, f) => n + Number(f.packets), 0)), bytes: String(own.reduce((n, f) => n + Number(f.bytes), 0)) });
      for (const c of countries) {
        const t = perCountry.get(c) ?? { flows: 0, packets: 0, bytes: 0 };
        perCountry.set(c, { flows: t.flows + path.counts.flows, packets: t.packets + Number(path.counts.packets), bytes: t.bytes + Number(path.counts.bytes) });
      }
    }
    assert.deepEqual(
      Object.fromEntries(p.countries.map((c) => [c.country, c.counts])),
      Object.fromEntries([...perCountry].map(([c, t]) => [c, { flows: t.flows, packets: String(t.packets), bytes: String(t.bytes) }])),
    );
    for (const edge of ['CH', 'DE']) {
      assert.deepEqual(p.countries.find((c) => c.country === edge)?.counts, { flows: lines.length, packets: String(replication.count), bytes: String(sentBytes) }, `every packet crossed ${edge}`);
    }

    for (const [out, key] of [[relaySigned, 'relay.pub'], [clientSigned, 'client.pub']]) {
      const v = await cli(['attest', 'verify', out, '--key', join(dir, key), '-o', 'json']);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      const r = JSON.parse(v.stdout) as { ok: boolean; flows: number; subject: string };
      assert.deepEqual([r.ok, r.flows, r.subject], [true, lines.length, p.evidence.merkleRoot]);
    }
    const wrongKey = await cli(['attest', 'verify', relaySigned, '--key', join(dir, 'client.pub'), '-o', 'json']);
    assert.equal(wrongKey.code, 1);
    assert.deepEqual((JSON.parse(wrongKey.stdout) as { failures: { check: string }[] }).failures.map((f) => f.check), ['signature']);
    // One more packet claimed on one flow: the evidence no longer matches what was signed.
    const evidence = join(relaySigned, 'flows.ndjson');
    const text = readFileSync(evidence, 'utf8');
    const first = text.slice(0, text.indexOf('\n'));
    const forged = first.replace(/"packets":"(\d+)"/, (_m, n: string) => `"packets":"${Number(n) + 1}"`);
    assert.notEqual(forged, first);
    writeFileSync(evidence, forged + text.slice(first.length));
    const tampered = await cli(['attest', 'verify', relaySigned, '--key', join(dir, 'relay.pub'), '-o', 'json']);
    assert.equal(tampered.code, 1, tampered.stdout);
    const checks = (JSON.parse(tampered.stdout) as { failures: { check: string }[] }).failures.map((f) => f.check);
    for (const c of ['evidence.merkleRoot', 'evidence.sha256', 'evidence.totals']) assert.ok(checks.includes(c), `${c} in ${checks.join(', ')}`);
  });

  it('filters at the relay: path, country, geofence and workload flags', async () => {
    const viaCH = await observeJson(['--server', relayAddr, '--last', '1000', '--through-country', 'CH', '--from-pod', 'db/replication-0']);
    assert.ok(viaCH.length > 0 && viaCH.every((f) => f.source?.podName === 'replication-0'));
    const outsideEU = await observeJson(['--server', relayAddr, '--last', '1000', '--from-pod', 'db/replication-0', '--through-isd', '66']);
    assert.equal(outsideEU.length, 0);
    const compliant = await observeJson(['--server', relayAddr, '--last', '1000', '--geofence', 'eu-plus-ch', '--geofence-verdict', 'COMPLIANT']);
    assert.ok(compliant.length > 0 && compliant.every((f) => f.geofence?.name === 'eu-plus-ch'));
    const compact = await cli(['observe', '--server', relayAddr, '--last', '5', '--from-pod', 'shop/billing-0']);
    assert.equal(compact.code, 0, compact.stderr);
    assert.match(compact.stdout, /64-2:0:20/);
  });

  it('serves the node\'s own flows on its Observer socket without the relay', async () => {
    const local = await observeJson(['--server', `unix://${zrhSocket}`, '--last', '1000']);
    assert.ok(local.some((f) => srcPort(f) === billingPort));
    assert.ok(local.every((f) => f.nodeName === 'zrh-1'));
  });

  it('answers status and node listing, and refuses a bad request with a status code while it keeps serving', async () => {
    const status = await cli(['status', '--server', relayAddr, '-o', 'json']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /"numConnectedNodes":\s*2/);
    // Honest agents: every fingerprint they sent is the one the relay computed from the hop fields.
    const figures = JSON.parse(status.stdout) as { fingerprintMismatches?: { count: string }[]; flowHolders?: { name: string; held?: string; capacity?: string; nodes?: number }[] };
    assert.deepEqual(figures.fingerprintMismatches ?? [], [], status.stdout);
    // Both agents' flow tables, as their exporters report them: the default --flow-max each.
    const table = figures.flowHolders?.find((h) => h.name === 'flow_table');
    assert.deepEqual([table?.capacity, table?.nodes], [String(2 * 65_536), 2], status.stdout);
    const text = await cli(['status', '--server', relayAddr]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ {2}Flow tables \(metering, 2 collectors\): [\d,]+\/131,072 \([\d.]+%\); when full: a new flow makes the least recently seen one report early/m, text.stdout);
    assert.match(text.stdout, /^Current\/Max Flows: [\d,]+ stored, no fixed maximum$/m, text.stdout);
    const nodes = await cli(['list', 'nodes', '--server', relayAddr]);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.match(nodes.stdout, /zrh-1/);
    assert.match(nodes.stdout, /fra-1/);
    // A filter the relay cannot honour, straight over gRPC as any Hubble client might send it.
    const client = new ObserverClient(relayAddr, credentials.createInsecure());
    const code = await new Promise<number | undefined>((resolve) => {
      const call = client.getFlows(GetFlowsRequest.fromPartial({ number: 10n, whitelist: [{ httpMethod: ['GET'] }] }));
      call.on('data', () => undefined);
      call.on('error', (e: { code?: number }) => resolve(e.code));
      call.on('end', () => resolve(undefined));
    });
    client.close();
    assert.equal(code, grpcStatus.INVALID_ARGUMENT);
    assert.ok((await observeJson(['--server', relayAddr, '--last', '1'])).length === 1, 'the relay still serves');
  });

  it('loses and duplicates nothing across a relay restart', async () => {
    const before = await observeJson(['--server', relayAddr, '--last', '100000']);
    assert.equal(await relay.stop(), 0, relay.log);
    const w = wan as Wan;
    const echo = w.pods.get('echo');
    const sent = await udpEcho(w.pods.get('billing')?.ns as string, echo?.ip as string, 7000, { count: 10, size: 100, srcPort: duringOutagePort });
    assert.equal(sent.received, 10);
    relay = new Proc('relay (restarted)', relayArgs);
    procs.push(relay);
    await relay.waitFor(/serving Observer and FlowExport/);
    const after = await until(
      'the flow sent while the relay was down',
      () => observeJson(['--server', relayAddr, '--last', '100000']),
      (fs) => fs.some((f) => srcPort(f) === duringOutagePort && f.nodeName === 'zrh-1') && fs.some((f) => srcPort(f) === duringOutagePort && f.nodeName === 'fra-1'),
      45000,
    );
    const uuids = after.map((f) => f.uuid);
    assert.equal(new Set(uuids).size, uuids.length, 'no flow stored twice');
    const afterIds = new Set(uuids);
    assert.ok(before.every((f) => afterIds.has(f.uuid)), 'every flow stored before the restart is still there');
  });
});
