// `cillion srv6-node` as the demo runs it, on its own: a provider node between two hosts, in
// network namespaces. It programs its End SID and locator from a SID catalogue, attaches the
// XDP endpoint program to every interface, forwards an SRv6 packet addressed to its SID
// (Segments Left one less, the destination the next segment, hop limit one less), drops a
// malformed one, and says so in the counts it prints when it stops; it detaches and removes
// its pins then. A node that is no provider, or one with a SID it cannot serve, is refused.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PIN_BASE } from '../../bpf/datapath';
import { encodeSrh } from '../../srv6/srh';
import { parseSid } from '../../srv6/sid';
import { NetnsHosts } from '../../cli/demo/netns';
import { ethernet, ipv4Packet, IPPROTO_UDP, udpDatagram } from '../datapath/harness/frames';
import { requireDatapath } from '../datapath/harness/require';

const ROOT = join(__dirname, '..', '..');
const CLI = ['--require', 'tsx/cjs', join(ROOT, 'cli', 'main.ts')];
const PREFIX = 'demo6n';
const INSTANCE = `${PREFIX}/srv6-p-test`;
const ETH_P_IPV6 = 0x86dd;
const IPPROTO_ROUTING = 43;
const IPPROTO_IPIP = 4;

/** Two edges, one provider between them; the provider's SID fc00:0:1::1, the far edge's DT4 SID fc00:0:3::100. */
const CATALOGUE = `
nodes:
  - name: p-test
    role: provider
    operator: Test Carrier
    asn: 64600
    locator: fc00:0:1::/48
    geo: { latitude: 47.37, longitude: 8.54, address: "Zurich, Switzerland", country: CH }
    sids:
      - { sid: "fc00:0:1::1", behavior: End }
  - name: edge-a
    role: edge
    cluster: a
    operator: A
    source: "fc00:0:2::1"
    locator: fc00:0:2::/48
    sids:
      - { sid: "fc00:0:2::100", behavior: End.DT4, vrf: 100 }
  - name: edge-b
    role: edge
    cluster: b
    operator: B
    source: "fc00:0:3::1"
    locator: fc00:0:3::/48
    sids:
      - { sid: "fc00:0:3::100", behavior: End.DT4, vrf: 100 }
links:
  - { a: edge-a, b: p-test, latencyMs: 1 }
  - { a: p-test, b: edge-b, latencyMs: 1 }
`;

/** An IPv6 packet from edge-a with an SRH (p-test's End, then edge-b's DT4) around a UDP/IPv4 packet. */
function srv6Frame(dstMac: string, srcMac: string, segmentsLeftOverride?: number): Buffer {
  const travel = [parseSid('fc00:0:1::1'), parseSid('fc00:0:3::100')];
  const srh = Buffer.from(encodeSrh({ nextHeader: IPPROTO_IPIP, segmentsLeft: 1, lastEntry: 1, flags: 0, tag: 0, segments: [...travel].reverse(), tlvs: [] }));
  if (segmentsLeftOverride !== undefined) srh[3] = segmentsLeftOverride;
  const inner = ipv4Packet({ src: '10.1.0.5', dst: '10.2.0.5', proto: IPPROTO_UDP, payload: udpDatagram(41000, 7010, Buffer.alloc(64, 0x5a)) });
  const ip6 = Buffer.alloc(40);
  ip6[0] = 0x60;
  ip6.writeUInt16BE(srh.length + inner.length, 4);
  ip6[6] = IPPROTO_ROUTING;
  ip6[7] = 64;
  Buffer.from(parseSid('fc00:0:2::1')).copy(ip6, 8);
  Buffer.from(travel[0]).copy(ip6, 24);
  return ethernet(dstMac, srcMac, ETH_P_IPV6, Buffer.concat([ip6, srh, inner]));
}

/** Sends raw frames out of `dev` in `ns` (an AF_PACKET socket: Node has none). */
function sendFrames(ns: string, dev: string, frames: Buffer[]): void {
  const py = 'import socket,sys\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\ns.bind((sys.argv[1],0))\nfor h in sys.argv[2:]: s.send(bytes.fromhex(h))';
  execFileSync('ip', ['netns', 'exec', ns, 'python3', '-c', py, dev, ...frames.map((f) => f.toString('hex'))]);
}

function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...CLI, ...args], { cwd: ROOT }, (err, _so, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
  });
}

describe('e2e: cillion srv6-node, a provider node in a namespace', function () {
  requireDatapath(this);
  this.timeout(120000);
  let hosts: NetnsHosts | undefined;
  let dir: string;
  let catalogue: string;
  let node: ChildProcess | undefined;
  let log = '';
  let captured = '';

  before(async () => {
    NetnsHosts.sweep(PREFIX);
    dir = mkdtempSync(join(tmpdir(), 'demo6n-'));
    catalogue = join(dir, 'srv6.yaml');
    writeFileSync(catalogue, CATALOGUE);
    hosts = new NetnsHosts(PREFIX);
    const a = hosts.addHost('a');
    const p = hosts.addHost('p');
    const b = hosts.addHost('b');
    const ab = hosts.link({ ns: a, ifname: 'eth0' }, { ns: p, ifname: 'sr0' });
    hosts.link({ ns: p, ifname: 'sr1' }, { ns: b, ifname: 'eth0' });
    for (const [ns, dev, addr] of [[a, 'eth0', 'fd00:a::2'], [p, 'sr0', 'fd00:a::1'], [p, 'sr1', 'fd00:b::1'], [b, 'eth0', 'fd00:b::2']]) {
      hosts.exec(ns, 'ip', ['-6', 'addr', 'add', `${addr}/64`, 'dev', dev, 'nodad']);
    }
    hosts.exec(p, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
    hosts.exec(p, 'ip', ['-6', 'route', 'add', 'fc00:0:3::/48', 'via', 'fd00:b::2', 'dev', 'sr1']);
    // The neighbour entry in place, so End redirects in XDP rather than handing the packet to the kernel.
    hosts.exec(p, 'ping', ['-6', '-c', '1', '-W', '2', 'fd00:b::2']);
    // XDP redirects onto b's veth: its peer takes such frames only with NAPI (GRO on).
    hosts.exec(b, 'ethtool', ['-K', 'eth0', 'gro', 'on']);

    const dump = hosts.spawn(b, 'tcpdump', ['-i', 'eth0', '-n', '-l', '-v', 'ip6 and dst net fc00::/16']);
    dump.stdout?.on('data', (d: Buffer) => (captured += d.toString()));
    await new Promise<void>((resolve) => dump.stderr?.on('data', (d: Buffer) => d.toString().includes('listening on') && resolve()));

    node = spawn(process.execPath, [...CLI, 'srv6-node', '--catalogue', catalogue, '--node', 'p-test', '--netns', p, '--instance', INSTANCE], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    node.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const deadline = Date.now() + 60000;
    while (!/serving End/.test(log)) {
      if (node.exitCode !== null || Date.now() > deadline) throw new Error(`srv6-node did not come up:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const good = srv6Frame(ab.b.mac, ab.a.mac);
    // Segments Left 3 with Last Entry 1: the SRH is malformed.
    const bad = srv6Frame(ab.b.mac, ab.a.mac, 3);
    sendFrames(a, 'eth0', [good, good, good, bad]);
    for (const until = Date.now() + 5000; (captured.match(/fc00:0:3::100/g) ?? []).length < 3 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 100));
    const exited = new Promise((r) => node?.once('exit', r));
    node.kill('SIGINT');
    await exited;
  });

  after(() => {
    if (node && node.exitCode === null) node.kill('SIGKILL');
    hosts?.destroy();
    rmSync(dir, { recursive: true, force: true });
    // The instance's pins went with srv6-node; its parent directory is this test's.
    rmSync(join(PIN_BASE, PREFIX), { recursive: true, force: true });
  });

  it('says what it serves: its End SID and locator on every interface of its namespace', () => {
    assert.match(log, /srv6-node p-test \(Test Carrier, CH\): serving End fc00:0:1::1 in fc00:0:1::\/48 on sr0, sr1/);
  });

  it('forwards an SRv6 packet to its SID on to the next segment, Segments Left and hop limit one less', () => {
    const lines = captured.split('\n').filter((l) => l.includes('fc00:0:3::100'));
    assert.equal(lines.length, 3, captured);
    // tcpdump -v: "hlim 63 ... fc00:0:2::1 > fc00:0:3::100: RT6 (len=4, type=4, segleft=0, ..."
    for (const l of lines) {
      assert.match(l, /hlim 63/, l);
      assert.match(l, /fc00:0:2::1 > fc00:0:3::100: (srcrt|RT6) \(.*type=4, segleft=0/, l);
    }
  });

  it('counts what it forwarded and dropped, by reason, and prints it when it stops', () => {
    const last = log.trim().split('\n').at(-1) ?? '';
    assert.match(last, /^srv6-node p-test: 4 records \(forwarded 3, dropped SRH_BAD_SEGLEFT 1\); counters: .*SRV6_END 3/, log);
  });

  it('detached and removed its pins on SIGINT', () => {
    assert.equal(node?.exitCode, 0, log);
    assert.ok(!existsSync(join(PIN_BASE, INSTANCE)));
    const links = JSON.parse(execFileSync('ip', ['-n', `${PREFIX}-p`, '-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string; xdp?: unknown }>;
    assert.deepEqual(links.filter((l) => l.xdp !== undefined).map((l) => l.ifname), []);
  });

  it('refuses an edge node, an unknown node and a provider with a SID it cannot serve, naming why', async () => {
    const edge = await cli(['srv6-node', '--catalogue', catalogue, '--node', 'edge-a']);
    assert.equal(edge.code, 1);
    assert.match(edge.stderr, /edge-a is an edge node/);
    const unknown = await cli(['srv6-node', '--catalogue', catalogue, '--node', 'nowhere']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /nowhere is no node of the catalogue/);
    const withDt4 = join(dir, 'dt4.yaml');
    writeFileSync(withDt4, readFileSync(catalogue, 'utf8').replace('- { sid: "fc00:0:1::1", behavior: End }', '- { sid: "fc00:0:1::1", behavior: End }\n      - { sid: "fc00:0:1::100", behavior: End.DT4, vrf: 100 }'));
    const dt4 = await cli(['srv6-node', '--catalogue', withDt4, '--node', 'p-test']);
    assert.equal(dt4.code, 1);
    assert.match(dt4.stderr, /SID fc00:0:1::100 is End\.DT4; srv6-node runs End SIDs only/);
  });
});
