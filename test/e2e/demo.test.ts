// `cillion demo` as `make demo` runs it, headless and bounded by CILLION_DEMO_SECONDS: it
// first removes what a crashed demo left, comes up with one relay per cluster, federated,
// and its flows, read through either relay, must be the story the example policies tell (billing on the Zurich-Frankfurt core link, video over
// several paths, replication fenced into the EU and Switzerland, analytics through the US
// and reported as a violation). The fence is also checked on the wire: every SCION packet
// on the clusters' uplink segments is captured and its path decoded from the bytes. Either
// relay shows both clusters' flows (node names cluster/node), a flow between the clusters
// from both ends with both verdicts, and both clusters' nodes.
// The relays speak mutual TLS only: the checks read them as the demo's reader, through the
// env files the demo writes, and attest with its attester certificate; plaintext, and a
// reader asking for an attestation, are refused.
// An attestation of the replication traffic signed by either relay verifies with that
// relay's public key.
// The first relay's web UI answers over mutual TLS with the auditor certificate (reader and attester) (and nothing
// without one), and headless Chromium sees both clusters on its service map, the demo's ASes
// and crossed countries on its world map and live flows in its table within seconds.
// The example CillionNetworkPolicies hold on the wire: billing -> billing is delivered, the
// video -> billing probe is dropped at Frankfurt's edge naming billing-ingress, the billing ->
// video probe at Zurich's naming billing-egress, in observe and in the datapath counters.
// Once the demo has stopped, every Grafana dashboard query runs on each cluster's store,
// which holds that cluster's flows only, and on both through the federation's tables. Then
// `make demo-down` leaves no namespace, link, pin or process.
// The SRv6 provider network carries the voice and archive tenants' pods: every SRv6 packet on
// the clusters' SRv6 uplink segments is captured with tshark and must dissect as an IPv6
// Routing Header of type 4 with the segment list the policy chose, each way (voip straight
// between the two PEs, backup through Milan and Vienna with an HMAC TLV); the relays show those
// flows beside the SCION ones, backup as a violation of its audit fence naming Milan's SID
// (IT); and every provider node on the way counted what its End program forwarded.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ingressPathKey } from '../../bpf/template';
import { readFrames, udpPayload } from '../../cli/scion/capture';
import { EmbeddedPathService } from '../../controlplane/pathservice';
import { loadTopology } from '../../controlplane/topology';
import { formatIA, isdOf, parseIA } from '../../scion/isdas';
import { decodePacket } from '../../scion/packet';
import { parseSid } from '../../srv6/sid';
import type { QueryResult } from '../../dashboards/src/check';
import { requireDatapath } from '../datapath/harness/require';
import { observeDemoUi, type DemoUiSeen } from './demo_ui';
import { loadSidCatalogue, type SidCatalogue } from '../../srv6/catalogue';

const ROOT = join(__dirname, '..', '..');
const CLI = ['--require', 'tsx/cjs', join(ROOT, 'cli', 'main.ts')];
const RUN_DIR = '/var/run/cillion-demo';
const PREFIX = 'cildemo';
const PIN_DIR = '/sys/fs/bpf/cillion/cildemo';
const RELAY = '127.0.0.1:4245';
/** The demo's relays (cli/demo/relays.ts): one per cluster, the second on the next port. */
const RELAYS = { zurich: RELAY, frankfurt: '127.0.0.1:4246' } as const;
type Cluster = keyof typeof RELAYS;
const CLUSTERS = Object.keys(RELAYS) as Cluster[];
const MARKER = 'CILLION_DEMO_RUN';
/**
 * Long enough for the checks below after the demo is up, on a loaded machine too (they took
 * over 90 s at a load average of 17 on two cores); it then stops by itself, which the tests
 * after the live ones wait for.
 */
const DEMO_SECONDS = 180;
/**
 * Dashboard queries with no rows in a healthy demo: nothing fails over or goes unverified (the
 * only drops are the policy probes'), and no SRv6 packet is malformed.
 */
const DASHBOARD_EMPTY_IN_DEMO = ['UNVERIFIED flows', 'Path changes and failovers', 'SRv6 drops by reason'];
/** The demo's agent and router metrics (cli/demo/run.ts): fra-node-1 is the third node, after Zurich's two. */
const FRA_NODE_1_METRICS = '127.0.0.1:4342';
const ZRH_NODE_1_METRICS = '127.0.0.1:4340';
const FIRST_ROUTER_METRICS = '127.0.0.1:4320';
const FIRST_AGENT_METRICS = '127.0.0.1:4340';
/** The SRv6 tenants' pods (examples/workloads/): voip-0 (voice, VRF 100) on node 1 and backup-0 (archive, VRF 200) on node 2 of each cluster. */
const VOIP = { zurich: '10.164.0.7', frankfurt: '10.165.0.7' } as const;
const BACKUP = { zurich: '10.164.1.7', frankfurt: '10.165.1.7' } as const;
interface Srv6Stream {
  what: string;
  src: string;
  dst: string;
  /** The cluster that decapsulates. */
  to: Cluster;
  vrf: number;
  /** The provider nodes its segment list crosses, in travel order (CONTRACT §E), then the decapsulating node's End.DT4. */
  nodes: string[];
  countries: string[];
  hmac: boolean;
}
/** What the example SRv6PathPolicies choose, each way: voip the lowest-latency list, backup one through Austria, with an HMAC TLV. */
const SRV6_STREAMS: Srv6Stream[] = [
  { what: 'voip CH > DE', src: VOIP.zurich, dst: VOIP.frankfurt, to: 'frankfurt', vrf: 100, nodes: ['pe-zurich', 'pe-frankfurt'], countries: ['CH', 'DE'], hmac: false },
  { what: 'voip DE > CH', src: VOIP.frankfurt, dst: VOIP.zurich, to: 'zurich', vrf: 100, nodes: ['pe-frankfurt', 'pe-zurich'], countries: ['DE', 'CH'], hmac: false },
  { what: 'backup CH > IT > AT > DE', src: BACKUP.zurich, dst: BACKUP.frankfurt, to: 'frankfurt', vrf: 200, nodes: ['pe-zurich', 'p-milan', 'p-vienna', 'pe-frankfurt'], countries: ['CH', 'IT', 'AT', 'DE'], hmac: true },
  { what: 'backup DE > AT > IT > CH', src: BACKUP.frankfurt, dst: BACKUP.zurich, to: 'zurich', vrf: 200, nodes: ['pe-frankfurt', 'p-vienna', 'p-milan', 'pe-zurich'], countries: ['DE', 'AT', 'IT', 'CH'], hmac: true },
];
const isBackup = (f: JsonFlow): boolean => between(BACKUP.zurich, BACKUP.frankfurt)(f) || between(BACKUP.frankfurt, BACKUP.zurich)(f);
/** The 27 EU member states (ISO 3166-1 alpha-2), and Switzerland, which eu-plus-ch adds. */
const EU_PLUS_CH = new Set('AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE CH'.split(' '));

interface JsonPolicy {
  name?: string;
  kind?: string;
}

interface JsonSrv6Hop {
  sid?: string;
  behavior?: string;
  node?: string;
  country?: string;
}

interface JsonFlow {
  time?: string;
  uuid?: string;
  nodeName?: string;
  verdict?: string;
  ingressDeniedBy?: JsonPolicy[];
  identityExtension?: { identity?: number; clusterName?: string; authenticated?: boolean };
  egressDeniedBy?: JsonPolicy[];
  IP?: { source: string; destination: string };
  trafficDirection?: string;
  scionPath?: { hops?: Array<{ isdAs?: string; country?: string }>; fingerprint?: string; knownToControlPlane?: boolean };
  geofence?: { verdict?: string; name?: string; mode?: string; offendingIsdAs?: string; offendingCountry?: string; offendingSid?: string };
  pathType?: string;
  srv6Path?: { segments?: string[]; tenantId?: number; hops?: JsonSrv6Hop[]; knownToCatalogue?: boolean; hmac?: { status?: string; keyId?: number } };
}

/** The variables of a relay's env file (export NAME=value lines), as `source` would set them. */
function demoEnv(cluster: Cluster = 'zurich'): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of readFileSync(join(RUN_DIR, `env.${cluster}`), 'utf8').matchAll(/^export ([A-Z_]+)=(.*)$/gm)) env[m[1]] = m[2];
  return env;
}

/** The first relay's web UI (cli/demo/relays.ts), read with the auditor certificate the banner names. */
const UI = 'https://127.0.0.1:12000/';
// The certificate the banner tells a browser to import: reader and attester.
const AUDITOR = { cert: join(RUN_DIR, 'certs', 'auditor', 'tls.crt'), key: join(RUN_DIR, 'certs', 'auditor', 'tls.key'), p12: join(RUN_DIR, 'certs', 'auditor', 'auditor.p12') };
/** The ASes of the demo's story, which the world map must show: both clusters, the core link billing takes, analytics' Ashburn. */
const STORY_ASES = ['64-2:0:20', '64-2:0:10', '65-2:0:10', '65-2:0:20', '66-2:0:10'];
/** How long the page may take to show both clusters, those ASes and flows: seconds, on a loaded machine. */
const UI_SHOWN_MS = 30000;
const attestPub = (cluster: Cluster): string => join(RUN_DIR, `attest-${cluster}.pub`);
const ATTESTER = ['--tls-client-cert-file', join(RUN_DIR, 'certs', 'attester', 'tls.crt'), '--tls-client-key-file', join(RUN_DIR, 'certs', 'attester', 'tls.key')];

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 256 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function relayFlows(cluster: Cluster, filters: string[] = []): Promise<JsonFlow[]> {
  const r = await cli(['observe', '--all', '-o', 'json', ...filters], demoEnv(cluster));
  if (r.code !== 0) throw new Error(`cillion observe: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      const o = JSON.parse(l) as { flow?: JsonFlow };
      return o.flow ? [o.flow] : [];
    });
}

const namespaces = (): string[] =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(`${PREFIX}-`));

function markedPids(): number[] {
  const out: number[] = [];
  for (const pid of execFileSync('ls', ['/proc'], { encoding: 'utf8' }).split('\n').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${MARKER}=${RUN_DIR}`)) out.push(Number(pid));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** What a demo killed with SIGKILL could leave: a marked process, a namespace, a pin, a state file. */
function plantLeftovers(): ChildProcess {
  mkdirSync(RUN_DIR, { recursive: true });
  writeFileSync(join(RUN_DIR, 'state.json'), JSON.stringify({ pid: 0x3ffffff, prefix: PREFIX, relay: RELAY, startedAt: '', processes: [] }));
  execFileSync('ip', ['netns', 'add', `${PREFIX}-leftover`]);
  mkdirSync(join(PIN_DIR, 'leftover'), { recursive: true });
  const sleeper = spawn('sleep', ['600'], { env: { ...process.env, [MARKER]: RUN_DIR }, detached: true, stdio: 'ignore' });
  sleeper.unref();
  return sleeper;
}

const hopIAs = (f: JsonFlow): string[] => (f.scionPath?.hops ?? []).map((h) => h.isdAs ?? '');
const between = (src: string, dst: string) => (f: JsonFlow) => f.IP?.source === src && f.IP?.destination === dst;

describe('e2e: the demo, headless', function () {
  requireDatapath(this);
  this.timeout(420000);
  let demo: ChildProcess | undefined;
  let demoExit: Promise<number | null>;
  let stdout = '';
  let stderr = '';
  /** Through each relay; `flows` is through Zurich's. */
  const via: Record<Cluster, JsonFlow[]> = { zurich: [], frankfurt: [] };
  let flows: JsonFlow[] = [];
  /** When the flows through Zurich's relay were read. */
  let zurichReadAt = 0;
  let captures: Buffer[] = [];
  /** tshark's capture files of the SRv6 uplink segments. */
  let srv6Captures: string[] = [];
  let catalogue: SidCatalogue;
  let pathAses = new Map<bigint, string[]>();
  let country = new Map<string, string>();
  let sleeper: ChildProcess;
  let capDir: string | undefined;
  let started: Date;
  let ui: { seen: DemoUiSeen } | { error: Error };

  before(async () => {
    started = new Date();
    capDir = mkdtempSync(join(tmpdir(), 'cildemo-e2e-'));
    sleeper = plantLeftovers();
    demo = spawn(process.execPath, [...CLI, 'demo'], {
      cwd: ROOT,
      env: { ...process.env, CILLION_DEMO_SECONDS: String(DEMO_SECONDS), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const d = demo;
    demoExit = new Promise((resolve) => d.once('exit', (code) => resolve(code)));
    d.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
    d.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const deadline = Date.now() + 300000;
    while (!/\[8\/8\] up/.test(stderr)) {
      if (d.exitCode !== null || Date.now() > deadline) throw new Error(`the demo did not come up:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }

    // Every SCION packet to or from a cluster crosses one of its uplink segments, where no
    // XDP program runs: capture them all on the switches while the traffic flows.
    const dumps = namespaces()
      .filter((n) => n.startsWith(`${PREFIX}-sw-`))
      .map((ns) => {
        const file = join(capDir as string, `${ns}.pcap`);
        const p = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '--immediate-mode', '-U', '-i', 'br0', '-w', file, 'udp'], { stdio: ['ignore', 'ignore', 'pipe'] });
        const listening = new Promise<void>((resolve, reject) => {
          p.stderr?.on('data', (b: Buffer) => b.toString().includes('listening on') && resolve());
          p.once('exit', (code) => reject(new Error(`tcpdump in ${ns} exited ${code}`)));
        });
        return { p, file, listening };
      });
    assert.equal(dumps.length, 5, 'two Zurich and three Frankfurt uplink segments');
    // Every SRv6 packet of a cluster crosses its SRv6 uplink segment, where no XDP program runs either.
    const srv6Dumps = namespaces()
      .filter((n) => n.startsWith(`${PREFIX}-sw6-`))
      .map((ns) => {
        const file = join(capDir as string, `${ns}.pcapng`);
        const p = spawn('ip', ['netns', 'exec', ns, 'tshark', '-q', '-i', 'br0', '-f', 'ip6', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
        const listening = new Promise<void>((resolve, reject) => {
          p.stderr?.on('data', (b: Buffer) => b.toString().includes('Capturing on') && resolve());
          p.once('exit', (code) => reject(new Error(`tshark in ${ns} exited ${code}`)));
        });
        return { p, file, listening };
      });
    assert.equal(srv6Dumps.length, 2, 'one SRv6 uplink segment per cluster');
    await Promise.all([...dumps, ...srv6Dumps].map((x) => x.listening));
    const captureEnd = Date.now() + 10000;
    // The browser reads the UI meanwhile, as a user would who opened it when the banner said so.
    const uiRun = observeDemoUi({ url: UI, ca: join(RUN_DIR, 'certs', 'ca', 'ca.crt'), cert: AUDITOR.cert, key: AUDITOR.key, timeoutMs: UI_SHOWN_MS, expectedAses: STORY_ASES }).then(
      (seen) => ({ seen }),
      (error: Error) => ({ error }),
    );

    const topology = loadTopology(join(RUN_DIR, 'topology.yaml'));
    country = new Map([...topology.ases.values()].map((a) => [formatIA(a.ia), a.country ?? '']));
    const control = EmbeddedPathService.fromFile(join(RUN_DIR, 'topology.yaml'));
    const zrh = parseIA('64-2:0:20');
    const fra = parseIA('65-2:0:20');
    pathAses = new Map([...control.pathsSync(zrh, fra), ...control.pathsSync(fra, zrh)].map((p) => [ingressPathKey(p.path), p.ases.map((ia) => formatIA(ia))]));

    // Flows are reported every few seconds; wait for both ends of every stream.
    const streams = [
      between('10.164.0.5', '10.165.0.5'),
      between('10.164.0.6', '10.165.0.6'),
      between('10.164.1.5', '10.165.1.5'),
      between('10.164.1.6', '10.165.1.6'),
      between('10.165.1.5', '10.164.1.5'),
      ...SRV6_STREAMS.map((x) => between(x.src, x.dst)),
    ];
    // The policy probes: video -> billing arrives at Frankfurt (and is dropped there), billing -> video never leaves Zurich.
    const probes: Array<[(f: JsonFlow) => boolean, string]> = [
      [between('10.164.0.6', '10.165.0.5'), 'INGRESS'],
      [between('10.164.0.5', '10.165.0.6'), 'EGRESS'],
    ];
    const flowsDeadline = Date.now() + 30000;
    const complete = (fs: JsonFlow[]): boolean =>
      streams.every((s) => ['EGRESS', 'INGRESS'].every((dir) => fs.some((f) => s(f) && f.trafficDirection === dir))) &&
      probes.every(([s, dir]) => fs.some((f) => s(f) && f.trafficDirection === dir));
    // Zurich's relay first, then Frankfurt's: what the first showed is stored by then, so the second must show it too.
    for (const cluster of CLUSTERS) {
      for (;;) {
        if (cluster === 'zurich') zurichReadAt = Date.now();
        via[cluster] = await relayFlows(cluster);
        if (complete(via[cluster]) || Date.now() > flowsDeadline) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    flows = via.zurich;
    await new Promise((r) => setTimeout(r, Math.max(0, captureEnd - Date.now())));
    for (const x of [...dumps, ...srv6Dumps]) {
      const exited = new Promise((r) => x.p.once('exit', r));
      x.p.kill('SIGINT');
      await exited;
    }
    captures = dumps.map((x) => readFileSync(x.file));
    srv6Captures = srv6Dumps.map((x) => x.file);
    catalogue = loadSidCatalogue(join(RUN_DIR, 'srv6.yaml'));
    ui = await uiRun;
  });

  after(async () => {
    // Skipped (no root or no BPF): nothing was started.
    if (!capDir) return;
    if (demo && demo.exitCode === null) demo.kill('SIGTERM');
    await demoExit;
    if (sleeper.exitCode === null) sleeper.kill('SIGKILL');
    if (namespaces().length > 0 || existsSync(RUN_DIR)) await cli(['demo', 'down']);
    rmSync(capDir, { recursive: true, force: true });
  });

  it('removed what a crashed demo left before it started', () => {
    assert.match(stderr, /ending 1 demo process/);
    assert.ok(!namespaces().includes(`${PREFIX}-leftover`));
    assert.ok(!existsSync(join(PIN_DIR, 'leftover')));
    assert.ok(!markedPids().includes(sleeper.pid as number));
  });

  it('carries billing on the Zurich-Frankfurt core link, seen where it leaves and where it arrives', () => {
    const billing = flows.filter(between('10.164.0.5', '10.165.0.5'));
    assert.ok(billing.some((f) => f.nodeName === 'zurich/zrh-node-1' && f.trafficDirection === 'EGRESS'));
    assert.ok(billing.some((f) => f.nodeName?.startsWith('frankfurt/fra-') && f.trafficDirection === 'INGRESS'));
    // Frankfurt delivered them only after their SPAO verified: the identity is Zurich's billing, authenticated.
    for (const f of billing.filter((f) => f.trafficDirection === 'INGRESS')) {
      assert.deepEqual([f.identityExtension?.identity, f.identityExtension?.clusterName, f.identityExtension?.authenticated], [65792, 'zurich', true], JSON.stringify(f.identityExtension));
    }
    for (const f of billing) {
      assert.deepEqual(hopIAs(f), ['64-2:0:20', '64-2:0:10', '65-2:0:10', '65-2:0:20']);
      assert.equal(f.scionPath?.knownToControlPlane, true);
    }
  });

  it('enforces the cross-cluster policies: billing -> billing delivered, video -> billing and billing -> video dropped naming the policy', async () => {
    const billing = flows.filter(between('10.164.0.5', '10.165.0.5'));
    assert.ok(billing.some((f) => f.trafficDirection === 'INGRESS'));
    assert.ok(billing.every((f) => f.verdict === 'FORWARDED'), 'Zurich billing passes billing-egress and billing-ingress');

    const videoToBilling = flows.filter(between('10.164.0.6', '10.165.0.5'));
    const arrived = videoToBilling.filter((f) => f.trafficDirection === 'INGRESS');
    assert.ok(arrived.length > 0);
    for (const f of arrived) {
      assert.equal(f.nodeName, 'frankfurt/fra-node-1');
      assert.equal(f.verdict, 'DROPPED', 'never delivered to billing');
      assert.deepEqual(f.ingressDeniedBy?.map((p) => [p.kind, p.name]), [['CillionNetworkPolicy', 'billing-ingress']]);
    }
    assert.ok(videoToBilling.filter((f) => f.trafficDirection === 'EGRESS').every((f) => f.verdict === 'FORWARDED'), 'Zurich lets video send it');

    const billingToVideo = flows.filter(between('10.164.0.5', '10.165.0.6'));
    assert.ok(billingToVideo.length > 0);
    for (const f of billingToVideo) {
      assert.equal(f.trafficDirection, 'EGRESS', 'dropped before it left Zurich: Frankfurt never sees it');
      assert.equal(f.verdict, 'DROPPED');
      assert.deepEqual(f.egressDeniedBy?.map((p) => p.name), ['billing-egress']);
    }

    // As an operator reads it, from the relay's store.
    const dropped = await cli(['observe', '--all', '--verdict', 'DROPPED'], demoEnv());
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.match(dropped.stdout, /shop\/billing-0.* DROPPED \(POLICY_DENIED\) policy-verdict:INGRESS DENIED by CillionNetworkPolicy\/billing-ingress/);
    assert.match(dropped.stdout, /DROPPED \(POLICY_DENIED\) policy-verdict:EGRESS DENIED by CillionNetworkPolicy\/billing-egress/);

    // Counted by reason in each edge's datapath.
    const counted = async (metrics: string, counter: string): Promise<number> => {
      const text = await (await fetch(`http://${metrics}/metrics`)).text();
      return Number(new RegExp(`^cillion_datapath_packets_total\\{counter="${counter}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    };
    assert.ok((await counted(FRA_NODE_1_METRICS, 'POLICY_DENIED')) > 0, 'fra-node-1 counts POLICY_DENIED');
    assert.ok((await counted(ZRH_NODE_1_METRICS, 'POLICY_EGRESS_DENIED')) > 0, 'zrh-node-1 counts POLICY_EGRESS_DENIED');

    // Both policies programmed: each operator resolved the other cluster through its catalogue.
    for (const [cluster, name] of [['frankfurt', 'billing-ingress'], ['zurich', 'billing-egress']]) {
      const text = readFileSync(join(RUN_DIR, 'resources', cluster, '.status', 'cillionnetworkpolicies', `${name}.yaml`), 'utf8');
      const conditions = (parse(text) as { status: { conditions: Array<{ type: string; status: string }> } }).status.conditions;
      assert.equal(conditions.find((c) => c.type === 'Programmed')?.status, 'True', `${cluster}/${name}:\n${text}`);
    }
  });

  it('shows both clusters through either relay: every node as cluster/node, the same flows, --cluster narrowing to one', async () => {
    for (const cluster of CLUSTERS) {
      const fs = via[cluster];
      assert.deepEqual([...new Set(fs.map((f) => f.nodeName?.split('/')[0]))].sort(), ['frankfurt', 'zurich'], `through the ${cluster} relay`);
      const odd = fs.filter((f) => !/^(zurich\/zrh|frankfurt\/fra)-node-[12]$/.test(f.nodeName ?? '')).map((f) => f.nodeName);
      assert.deepEqual(odd, [], `through the ${cluster} relay: every node named cluster/node`);
    }
    // What Zurich's relay showed, Frankfurt's relay shows too: each cluster's flows from its
    // own store, the other's from its peer. Zurich's may have shown a flow from its memory a
    // moment before storing it: asked again until a deadline.
    const shown = via.zurich.filter((f) => f.uuid);
    assert.ok(shown.some((f) => f.nodeName?.startsWith('zurich/')) && shown.some((f) => f.nodeName?.startsWith('frankfurt/')), `${shown.length} flows with a uuid, of both clusters`);
    let atFrankfurt = via.frankfurt;
    for (const deadline = Date.now() + 15000; ; ) {
      const uuids = new Set(atFrankfurt.map((f) => f.uuid));
      const missing = shown.filter((f) => !uuids.has(f.uuid));
      if (missing.length === 0 || Date.now() > deadline) {
        assert.deepEqual(missing.map((f) => `${f.nodeName} ${f.time} ${f.uuid}`), [], `read from Zurich's relay ${Date.now() - zurichReadAt} ms before`);
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
      atFrankfurt = await relayFlows('frankfurt');
    }
    for (const cluster of CLUSTERS) assert.equal(new Set(via[cluster].map((f) => f.uuid)).size, via[cluster].length, `through the ${cluster} relay: no flow twice`);
    for (const [relay, other] of [['zurich', 'frankfurt'], ['frankfurt', 'zurich']] as const) {
      const only = await relayFlows(relay, ['--cluster', other]);
      assert.ok(only.length > 0, `--cluster ${other} through the ${relay} relay`);
      assert.deepEqual(only.filter((f) => !f.nodeName?.startsWith(`${other}/`)).map((f) => f.nodeName), []);
    }
  });

  it('shows a flow between the clusters from both ends, each with its verdict, through either relay', () => {
    const seen = (fs: JsonFlow[], node: string, dir: string, ok: (f: JsonFlow) => boolean) => fs.some((f) => f.nodeName?.startsWith(node) && f.trafficDirection === dir && ok(f));
    for (const cluster of CLUSTERS) {
      const fs = via[cluster];
      const at = `through the ${cluster} relay`;
      // Billing: let out by Zurich, delivered by Frankfurt after its SPAO verified.
      const billing = fs.filter(between('10.164.0.5', '10.165.0.5'));
      assert.ok(seen(billing, 'zurich/zrh-node-1', 'EGRESS', (f) => f.verdict === 'FORWARDED'), at);
      assert.ok(seen(billing, 'frankfurt/fra-node-', 'INGRESS', (f) => f.verdict === 'FORWARDED' && f.identityExtension?.authenticated === true), at);
      // Video -> billing: let out by Zurich, dropped at Frankfurt's edge by billing-ingress.
      const probe = fs.filter(between('10.164.0.6', '10.165.0.5'));
      assert.ok(seen(probe, 'zurich/', 'EGRESS', (f) => f.verdict === 'FORWARDED'), at);
      assert.ok(seen(probe, 'frankfurt/fra-node-1', 'INGRESS', (f) => f.verdict === 'DROPPED' && f.ingressDeniedBy?.[0]?.name === 'billing-ingress'), at);
      // Replication and analytics: each end judged by its own cluster's relay.
      const repl = fs.filter(between('10.164.1.5', '10.165.1.5'));
      assert.ok(seen(repl, 'zurich/', 'EGRESS', (f) => f.geofence?.verdict === 'GEOFENCE_COMPLIANT'), at);
      assert.ok(seen(repl, 'frankfurt/', 'INGRESS', (f) => f.geofence?.verdict === 'GEOFENCE_COMPLIANT'), at);
      const analytics = fs.filter(between('10.164.1.6', '10.165.1.6'));
      assert.ok(seen(analytics, 'zurich/', 'EGRESS', (f) => f.geofence?.verdict === 'GEOFENCE_VIOLATION'), at);
      assert.ok(seen(analytics, 'frankfurt/', 'INGRESS', (f) => f.geofence?.verdict === 'GEOFENCE_VIOLATION'), at);
    }
  });

  it('lists both clusters\' nodes through either relay, in status and list nodes', async () => {
    for (const cluster of CLUSTERS) {
      const status = await cli(['status'], demoEnv(cluster));
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /Connected Nodes: 4\/4/, `through the ${cluster} relay:\n${status.stdout}`);
      const nodes = await cli(['list', 'nodes', '-o', 'json'], demoEnv(cluster));
      assert.equal(nodes.code, 0, nodes.stderr);
      const names = (JSON.parse(nodes.stdout) as { nodes: Array<{ name: string }> }).nodes.map((n) => n.name).sort();
      assert.deepEqual(names, ['frankfurt/fra-node-1', 'frankfurt/fra-node-2', 'zurich/zrh-node-1', 'zurich/zrh-node-2'], `through the ${cluster} relay`);
    }
  });

  it('says in status how the routers compute hop-field MACs, and that the agents authenticate with every peer\'s key', async () => {
    const status = await cli(['status', '--router', FIRST_ROUTER_METRICS, '--agent', FIRST_AGENT_METRICS], demoEnv());
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`Router ${FIRST_ROUTER_METRICS}: hop MACs: (kernel AES via BPF crypto kfuncs \\(.+\\)|table AES in BPF, the fallback \\(.+\\))`));
    assert.match(status.stdout, new RegExp(`Agent ${FIRST_AGENT_METRICS}: SPAO on \\(.+\\), every peer's current key held`));
  });

  it('spreads video over several paths', () => {
    const video = flows.filter((f) => between('10.164.0.6', '10.165.0.6')(f) && f.trafficDirection === 'EGRESS');
    const paths = new Set(video.map((f) => hopIAs(f).join('>')));
    assert.ok(paths.size >= 2, `video took ${[...paths].join(' | ')}`);
    assert.ok(video.every((f) => f.scionPath?.knownToControlPlane === true));
  });

  it('keeps replication inside the EU and Switzerland in both directions, compliant with eu-plus-ch', () => {
    const repl = flows.filter((f) => between('10.164.1.5', '10.165.1.5')(f) || between('10.165.1.5', '10.164.1.5')(f));
    assert.ok(repl.length > 0);
    for (const f of repl) {
      assert.equal(f.geofence?.name, 'eu-plus-ch');
      assert.equal(f.geofence?.verdict, 'GEOFENCE_COMPLIANT');
      assert.ok(hopIAs(f).every((ia) => EU_PLUS_CH.has(country.get(ia) ?? '')), hopIAs(f).join('>'));
    }
  });

  it('reports every analytics flow as a violation of its audit fence that names the US hop', () => {
    const analytics = flows.filter(between('10.164.1.6', '10.165.1.6'));
    assert.ok(analytics.length > 0);
    for (const f of analytics) {
      assert.ok(hopIAs(f).includes('66-2:0:10'), hopIAs(f).join('>'));
      assert.equal(f.geofence?.name, 'eu-plus-ch-audit');
      assert.equal(f.geofence?.mode, 'GEOFENCE_AUDIT');
      assert.equal(f.geofence?.verdict, 'GEOFENCE_VIOLATION');
      assert.equal(f.geofence?.offendingIsdAs, '66-2:0:10');
      assert.equal(f.geofence?.offendingCountry, 'US');
    }
  });

  it('shows on the wire that no replication packet crosses an AS outside the fence, while analytics does', () => {
    const seen = new Map<string, { packets: number; paths: Set<string> }>();
    let unknown = 0;
    for (const bytes of captures) {
      for (const frame of readFrames(bytes)) {
        const udp = udpPayload(frame);
        if (!udp) continue;
        const pkt = decodePacket(udp.payload);
        if (pkt.path.type !== 'SCION' || pkt.src.kind !== 'IPv4') continue;
        const src = [...pkt.src.bytes].join('.');
        const ases = pathAses.get(ingressPathKey(pkt.path));
        if (!ases) {
          unknown++;
          continue;
        }
        const s = seen.get(src) ?? { packets: 0, paths: new Set<string>() };
        s.packets++;
        s.paths.add(ases.join('>'));
        seen.set(src, s);
      }
    }
    assert.equal(unknown, 0, 'every captured path is one the control plane handed out');
    for (const src of ['10.164.1.5', '10.165.1.5']) {
      const r = seen.get(src);
      assert.ok(r && r.packets > 0, `replication packets from ${src} on the wire`);
      for (const p of r.paths) {
        const ases = p.split('>');
        assert.ok(ases.every((ia) => [64, 65].includes(isdOf(parseIA(ia))) && EU_PLUS_CH.has(country.get(ia) ?? '')), p);
      }
    }
    const analytics = seen.get('10.164.1.6');
    assert.ok(analytics && analytics.packets > 0, 'analytics packets on the wire');
    assert.ok([...analytics.paths].every((p) => p.split('>').includes('66-2:0:10')));
  });

  /** A node's End SID, and the End.DT4 SIDs of `vrf` on `cluster`'s edge nodes, from the run's catalogue. */
  const endSid = (node: string): string => {
    const sid = catalogue.endSid(node)?.sid;
    assert.ok(sid, `${node} has an End SID`);
    return sid;
  };
  const dt4Sids = (cluster: string, vrf: number): string[] =>
    catalogue.edgeNodes(cluster).flatMap((n) => catalogue.dt4Sid(n.name, vrf)?.sid ?? []);
  const sameSid = (a: string, b: string): boolean => parseSid(a).every((x, i) => x === parseSid(b)[i]);

  it('puts SRv6 on the wire: every packet on the SRv6 uplinks dissects in tshark as Routing Header type 4 with the segment list its policy chose', () => {
    const fields = ['ip.src', 'ip.dst', 'ipv6.routing.type', 'ipv6.routing.segleft', 'ipv6.routing.srh.last_entry', 'ipv6.routing.len', 'ipv6.routing.srh.addr', '_ws.malformed', '_ws.expert.severity'];
    const rows = srv6Captures.flatMap((file) =>
      execFileSync('tshark', ['-r', file, '-Y', 'ipv6.nxt == 43', '-T', 'fields', ...fields.flatMap((f) => ['-e', f]), '-E', 'separator=|', '-E', 'aggregator=,'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => Object.fromEntries(l.split('|').map((v, i) => [fields[i], v]))),
    );
    const seen = new Map<Srv6Stream, number>();
    for (const row of rows) {
      const what = JSON.stringify(row);
      assert.equal(row['ipv6.routing.type'], '4', what);
      assert.equal(row['_ws.malformed'], '', `dissects cleanly: ${what}`);
      // Expert severity "error" is 0x00800000; notes and chats are fine.
      assert.ok(row['_ws.expert.severity'].split(',').every((v) => v === '' || Number(v) < 0x00800000), `no dissector error: ${what}`);
      assert.ok(Number(row['ipv6.routing.segleft']) <= Number(row['ipv6.routing.srh.last_entry']), what);
      const stream = SRV6_STREAMS.find((x) => row['ip.src'] === x.src && row['ip.dst'] === x.dst);
      assert.ok(stream, `an SRv6 packet of a pod the policies send: ${what}`);
      seen.set(stream, (seen.get(stream) ?? 0) + 1);
      // tshark lists the SRH's segments in header order: the last segment first.
      const travel = row['ipv6.routing.srh.addr'].split(',').reverse();
      assert.equal(travel.length, stream.nodes.length + 1, `${stream.what}: ${what}`);
      stream.nodes.forEach((n, i) => assert.ok(sameSid(travel[i], endSid(n)), `${stream.what}: segment ${i} is ${n}'s End: ${what}`));
      assert.ok(dt4Sids(stream.to, stream.vrf).some((d) => sameSid(travel[stream.nodes.length], d)), `${stream.what}: ends in ${stream.to}'s End.DT4 for VRF ${stream.vrf}: ${what}`);
      // Hdr Ext Len in 8-byte units: two per segment, and five for the 40-byte HMAC TLV the policy asks for.
      assert.equal(Number(row['ipv6.routing.len']), 2 * travel.length + (stream.hmac ? 5 : 0), `${stream.what}: ${stream.hmac ? 'an HMAC TLV' : 'no TLV'}: ${what}`);
    }
    for (const x of SRV6_STREAMS) assert.ok((seen.get(x) ?? 0) > 0, `${x.what} on the wire`);
    console.log(`      tshark: ${rows.length} SRv6 packets, all Routing Header type 4: ${SRV6_STREAMS.map((x) => `${x.what} ${seen.get(x)}`).join(', ')}`);
  });

  it('shows SRv6 flows beside SCION ones, each path rebuilt from its segments, backup\'s HMAC verified', () => {
    assert.ok(flows.some((f) => f.pathType === 'WAN_PATH_SCION' && f.scionPath), 'SCION flows');
    for (const x of SRV6_STREAMS) {
      const fs = flows.filter(between(x.src, x.dst));
      assert.ok(fs.some((f) => f.trafficDirection === 'EGRESS') && fs.some((f) => f.trafficDirection === 'INGRESS'), `${x.what}: seen where encapsulated and where decapsulated`);
      const edges = catalogue.edgeNodes(x.to).map((n) => n.name);
      for (const f of fs) {
        const hops = f.srv6Path?.hops ?? [];
        const at = `${x.what}: ${JSON.stringify(f.srv6Path)}`;
        assert.equal(f.pathType, 'WAN_PATH_SRV6', at);
        assert.equal(f.verdict, 'FORWARDED', at);
        assert.equal(f.srv6Path?.tenantId, x.vrf, at);
        assert.equal(f.srv6Path?.knownToCatalogue, true, at);
        assert.deepEqual(hops.slice(0, x.nodes.length).map((h) => h.node), x.nodes, at);
        assert.deepEqual(hops.slice(0, x.nodes.length).map((h) => h.country), x.countries, at);
        assert.ok(edges.includes(hops[x.nodes.length]?.node ?? ''), at);
        assert.deepEqual([f.srv6Path?.hmac?.status, f.srv6Path?.hmac?.keyId ?? 0], x.hmac ? ['SRV6_HMAC_VERIFIED', 1] : ['SRV6_HMAC_ABSENT', 0], at);
      }
    }
  });

  it('reports every backup flow as a violation of dach-only-audit naming Milan\'s segment (IT)', () => {
    const backup = flows.filter(isBackup);
    assert.ok(backup.length > 0);
    for (const f of backup) {
      assert.deepEqual([f.geofence?.name, f.geofence?.mode, f.geofence?.verdict, f.geofence?.offendingCountry], ['dach-only-audit', 'GEOFENCE_AUDIT', 'GEOFENCE_VIOLATION', 'IT'], JSON.stringify(f.geofence));
      assert.ok(f.geofence?.offendingSid && sameSid(f.geofence.offendingSid, endSid('p-milan')), JSON.stringify(f.geofence));
    }
  });

  it('judges backup the same on its own node: the agent\'s observer places the segments in the cluster\'s SID catalogue', async () => {
    // backup-0 runs on node 2 of each cluster; its agent judges what it encapsulates before any relay does.
    const r = await cli(['observe', '--server', `unix://${join(RUN_DIR, 'zrh-node-2.sock')}`, '--last', '1000', '-o', 'json', '--path-type', 'srv6', '--from-pod', 'archive/backup-0']);
    assert.equal(r.code, 0, r.stderr);
    const local = r.stdout.split('\n').filter((l) => l.trim() !== '').flatMap((l) => (JSON.parse(l) as { flow?: JsonFlow }).flow ?? []);
    assert.ok(local.length > 0, r.stdout);
    for (const f of local) {
      assert.deepEqual([f.geofence?.name, f.geofence?.verdict, f.geofence?.offendingCountry], ['dach-only-audit', 'GEOFENCE_VIOLATION', 'IT'], JSON.stringify(f.geofence));
    }
  });

  it('filters both path kinds: --path-type, --through-sid and --through-country through the relay', async () => {
    const srv6 = await relayFlows('zurich', ['--path-type', 'srv6']);
    assert.ok(srv6.length > 0 && srv6.every((f) => f.pathType === 'WAN_PATH_SRV6'));
    const scion = await relayFlows('zurich', ['--path-type', 'scion']);
    assert.ok(scion.length > 0 && scion.every((f) => f.pathType === 'WAN_PATH_SCION'));
    // Milan's SID is on backup's list only; Italy is crossed by backup alone, SCION or SRv6.
    const milan = await relayFlows('zurich', ['--through-sid', endSid('p-milan')]);
    assert.ok(milan.length > 0 && milan.every(isBackup), JSON.stringify(milan.map((f) => f.IP)));
    // Only backup crosses Italy, of the SCION and the SRv6 flows alike.
    const italy = await relayFlows('zurich', ['--through-country', 'IT']);
    assert.ok(italy.length > 0 && italy.every(isBackup), JSON.stringify(italy.map((f) => f.IP)));
    const text = await cli(['observe', '--all', '--path-type', 'srv6', '--from-pod', 'archive/backup-0'], demoEnv());
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /srv6 \S+ \(pe-zurich CH\) > \S+ \(p-milan IT\) > \S+ \(p-vienna AT\) > \S+ \(pe-frankfurt DE\) > \S+ \(End\.DT4 vrf 200\)/);
  });

  it('serves only mutual TLS on both relays: plaintext is refused, and the banner says how to reach each', async () => {
    for (const cluster of CLUSTERS) {
      const plain = await cli(['status', '--server', RELAYS[cluster]]);
      assert.equal(plain.code, 1, plain.stdout);
      assert.match(stderr, new RegExp(join(RUN_DIR, `env.${cluster}`)));
      const status = await cli(['status'], demoEnv(cluster));
      assert.equal(status.code, 0, status.stderr);
      assert.match(readFileSync(join(RUN_DIR, 'logs', `relay-${cluster}.log`), 'utf8'), /mutual TLS/);
    }
    assert.match(stderr, new RegExp(`source ${join(RUN_DIR, 'env.zurich')}`));
  });

  it('serves the web UI on the first relay over mutual TLS, and the page shows both clusters, the paths\' ASes and live flows within seconds', () => {
    // The banner says where, for both relays, and which certificate to import.
    assert.match(stderr, /https:\/\/127\.0\.0\.1:12000\//);
    assert.match(stderr, /https:\/\/127\.0\.0\.1:12001\//);
    assert.ok(stderr.includes(AUDITOR.p12) && existsSync(AUDITOR.p12), `the banner names ${AUDITOR.p12}`);
    assert.match(stderr, /--ignore-certificate-errors-spki-list=[A-Za-z0-9+/=]{44},[A-Za-z0-9+/=]{44} /);
    if ('error' in ui) assert.fail(ui.error.stack ?? ui.error.message);
    const s = ui.seen;
    const who = s.whoami.body;
    assert.equal(s.whoami.status, 200, JSON.stringify(who));
    assert.deepEqual([who.name, who.roles, who.tls, who.relay, who.cluster], ['demo-auditor', ['attester', 'reader'], true, 'zurich-relay', 'zurich']);
    assert.doesNotMatch(s.withoutCertificate, /^HTTP 2/, 'no answer without a client certificate');
    assert.deepEqual(s.clusters, ['frankfurt', 'zurich'], 'both clusters on the service map, through one relay');
    assert.ok(s.crossClusterEdges > 0, 'edges between the clusters');
    for (const ia of STORY_ASES) assert.ok(s.ases.includes(ia), `${ia} on the world map: ${s.ases.join(' ')}`);
    assert.deepEqual(s.ases.filter((ia) => !country.has(ia)), [], 'every AS on the map is one of the demo\'s');
    for (const c of ['CH', 'DE', 'US']) assert.ok(s.crossedCountries.includes(c), `${c} crossed: ${s.crossedCountries.join(' ')}`);
    assert.ok(s.rows > 0, 'flow rows in the table');
    assert.ok(s.flowCounts[1] > s.flowCounts[0], `the table follows live: ${s.flowCounts.join(' then ')}`);
    assert.ok(s.shownAfterMs < UI_SHOWN_MS, `shown after ${s.shownAfterMs} ms`);
    assert.deepEqual(s.errors, [], 'no console error or exception in the page');
    assert.deepEqual(s.failed, [], 'no request of the page failed');
    console.log(`      web UI: both clusters, ${s.ases.length} ASes, ${s.rows} rows shown after ${s.shownAfterMs} ms; flow-count ${s.flowCounts.join(' -> ')}`);
  });

  it('showed the flows live on standard output', () => {
    assert.match(stdout, /FORWARDED via 64-2:0:20 CH > 64-2:0:10 CH > 65-2:0:10 DE > 65-2:0:20 DE/);
    assert.match(stdout, /VIOLATION\(eu-plus-ch-audit\)/);
  });

  it('attests the replication traffic, signed by the relay asked, and the attestation verifies with that relay\'s key', async () => {
    const out = join(capDir as string, 'audit');
    const asReader = await cli(['attest', 'export', '--selector', 'app=replication', '--since', '10m', '--until', '0s', '--out', `${out}-reader`], demoEnv());
    assert.equal(asReader.code, 1);
    assert.match(asReader.stderr, /needs the attester role.*, it has reader/);
    const exp = await cli(['attest', 'export', ...ATTESTER, '--selector', 'app=replication', '--since', '10m', '--until', '0s', '--out', out], demoEnv());
    assert.equal(exp.code, 0, exp.stderr);
    const ver = await cli(['attest', 'verify', out, '--key', attestPub('zurich'), '-o', 'json']);
    assert.equal(ver.code, 0, ver.stdout + ver.stderr);
    const result = JSON.parse(ver.stdout) as { ok: boolean; flows: number };
    assert.ok(result.ok && result.flows > 0, ver.stdout);
    const statement = JSON.parse(Buffer.from((JSON.parse(readFileSync(join(out, 'attestation.dsse.json'), 'utf8')) as { payload: string }).payload, 'base64').toString()) as {
      predicate: { totals: { violation: number; compliant: number }; countries: Array<{ country: string }> };
    };
    assert.equal(statement.predicate.totals.violation, 0);
    assert.ok(statement.predicate.totals.compliant > 0);
    for (const { country } of statement.predicate.countries) assert.ok(EU_PLUS_CH.has(country), `replication crossed ${country}`);

    // Through Frankfurt's relay: signed with its own key, which Zurich's does not stand for.
    const fra = await cli(['attest', 'export', ...ATTESTER, '--selector', 'app=replication', '--since', '10m', '--until', '0s', '--out', `${out}-frankfurt`], demoEnv('frankfurt'));
    assert.equal(fra.code, 0, fra.stderr);
    const fraVer = await cli(['attest', 'verify', `${out}-frankfurt`, '--key', attestPub('frankfurt'), '-o', 'json']);
    assert.equal(fraVer.code, 0, fraVer.stdout + fraVer.stderr);
    assert.ok((JSON.parse(fraVer.stdout) as { flows: number }).flows > 0);
    const wrongKey = await cli(['attest', 'verify', `${out}-frankfurt`, '--key', attestPub('zurich'), '-o', 'json']);
    assert.notEqual(wrongKey.code, 0, 'signed by Frankfurt\'s relay, not Zurich\'s');
  });

  it('stops by itself after CILLION_DEMO_SECONDS', async () => {
    assert.equal(await demoExit, 0, stderr);
    assert.match(stderr, new RegExp(`${DEMO_SECONDS} s are up`));
    assert.deepEqual(namespaces(), []);
    assert.ok(!existsSync(PIN_DIR));
    assert.deepEqual(markedPids(), []);
    for (const cluster of CLUSTERS) assert.ok(existsSync(join(RUN_DIR, 'logs', `relay-${cluster}.log`)), 'the logs stay until demo-down');
  });

  it('ran an End program on every provider node, each counting what it forwarded (its last words, once the demo stopped it)', async () => {
    assert.equal(await demoExit, 0, stderr);
    for (const node of SRV6_STREAMS[2].nodes) {
      const log = readFileSync(join(RUN_DIR, 'logs', `srv6-node-${node}.log`), 'utf8');
      assert.match(log, new RegExp(`srv6-node ${node} .*serving End `));
      const forwarded = [...log.matchAll(/records \(.*?forwarded (\d+)/g)].map((m) => Number(m[1]));
      assert.ok(forwarded.length > 0 && (forwarded.at(-1) as number) > 0, `${node} forwarded: ${log.slice(-400)}`);
    }
  });

  it('answers every Grafana dashboard query from each cluster\'s store, which shows that cluster, and from both through the federation\'s tables', async () => {
    // The stores stay until demo-down; chdb opens one data directory per process, so each in a
    // process of its own; several are read as one through the federation's tables (dashboards/src/federate.ts).
    // The demo's relays hold them until it ends: wait for that here, so that this test does not
    // depend on the one above having run (mocha --grep runs it alone).
    assert.equal(await demoExit, 0, stderr);
    const check = (clusters: Cluster[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const dirs = clusters.flatMap((c) => ['--data-dir', join(RUN_DIR, 'store', c)]);
        execFile(process.execPath, ['--require', 'tsx/cjs', join(ROOT, 'dashboards', 'src', 'check.ts'), ...dirs, '--from', started.toISOString(), '--to', new Date().toISOString()], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, so, se) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: so, stderr: se }),
        );
      });
    const run = async (clusters: Cluster[]): Promise<QueryResult[]> => {
      const what = clusters.join(' and ');
      const r = await check(clusters);
      assert.equal(r.code, 0, r.stderr);
      const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as QueryResult);
      assert.deepEqual(results.filter((x) => x.error).map((x) => `${what}: ${x.dashboard} ${x.name}: ${x.error}`), []);
      for (const x of results.filter((y) => y.format === 0 && y.rows > 0)) assert.match(x.columns[0]?.type ?? '', /^DateTime/, `${what}: ${x.name}: a time column first`);
      console.log(`      ${what}: ${results.length} queries; rows: ${results.map((x) => `${x.name}${x.kind === 'variable' ? ' (variable)' : ''} ${x.rows}`).join(', ')}`);
      return results;
    };
    const clusterVar = (results: QueryResult[]) => results.find((r) => r.kind === 'variable' && r.name === 'cluster');
    const denied = (results: QueryResult[]) => results.find((r) => r.name === 'Denied by network policy');

    // Each cluster's store holds its own cluster's flows only: its dashboards offer that cluster alone,
    // and the policy probe its own edge dropped.
    for (const [cluster, policy] of [['zurich', 'billing-egress'], ['frankfurt', 'billing-ingress']] as const) {
      const results = await run([cluster]);
      assert.deepEqual([clusterVar(results)?.rows, clusterVar(results)?.first], [1, [cluster]], `${cluster}'s dashboards show ${cluster}`);
      const row = JSON.stringify(denied(results)?.first);
      assert.equal(denied(results)?.rows, 1, row);
      assert.ok(row.includes(policy), row);
    }

    // Both stores through the federation's tables: the view Grafana has over both clusters' ClickHouse.
    const both = await run(['zurich', 'frankfurt']);
    assert.deepEqual(clusterVar(both)?.rows, 2, 'both clusters to choose from');
    const mayBeEmpty = new Set(DASHBOARD_EMPTY_IN_DEMO);
    for (const name of mayBeEmpty) assert.ok(both.some((r) => r.name === name), `${name} is a panel`);
    assert.deepEqual(both.filter((r) => r.rows === 0 && !mayBeEmpty.has(r.name)).map((r) => `${r.dashboard} ${r.name} (${r.refId})`), []);
    const geo = both.filter((r) => r.kind === 'geomap');
    assert.deepEqual(geo.map((r) => r.refId), ['nodes', 'edges']);
    for (const col of ['latitude', 'longitude', 'bytes', 'verdict_level']) assert.ok(geo[0].columns.some((c) => c.name === col), col);
    for (const col of ['source', 'target', 'bytes', 'verdict_level']) assert.ok(geo[1].columns.some((c) => c.name === col), col);
    assert.equal(denied(both)?.rows, 2, 'one row per policy probe: billing-ingress and billing-egress');
    // Each row names both ends by cluster, namespace and app: the remote one from its cluster's catalogue.
    const row = JSON.stringify(denied(both)?.first);
    assert.match(row, /zurich\/(media\/video|shop\/billing)/, row);
    assert.match(row, /frankfurt\/(shop\/billing|media\/video)/, row);
    const violating = both.find((r) => r.name === 'Violating flows');
    // Two workloads violate their audit fences, analytics through Ashburn (SCION) and backup through Milan (SRv6): the newest row is either.
    const first = JSON.stringify(violating?.first);
    assert.ok(first.includes('66-2:0:10') || (first.includes('dach-only-audit') && first.includes('"IT"')), `the violating flows name the Ashburn hop, or Italy under dach-only-audit: ${first}`);
  });

  it('make demo-down then leaves nothing behind', async () => {
    // A second crash's leftovers, then the make target.
    const again = plantLeftovers();
    const down = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile('make', ['--no-print-directory', 'demo-down'], { cwd: ROOT }, (err, so, se) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: so + se }));
    });
    assert.equal(down.code, 0, down.out);
    assert.deepEqual(namespaces(), []);
    assert.ok(!existsSync(PIN_DIR));
    assert.ok(!existsSync(RUN_DIR));
    assert.deepEqual(markedPids(), []);
    assert.notEqual(again.exitCode ?? again.signalCode, null);
    const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string }>;
    assert.deepEqual(links.filter((l) => l.ifname.startsWith('cdmtmp')), []);
  });
});
