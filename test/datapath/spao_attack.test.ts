// An attacker on the underlay, in a namespace that is no node of the mesh, sends SCION
// packets over a real veth to a Frankfurt edge with authentication on (edge_kfunc.bpf.o
// attached with XDP): a recorded packet replayed, forged authenticators, a forged identity,
// a stale recording and a packet without SPAO. All are dropped, each counted under its
// reason, and the pod behind the edge receives none of them, while the one genuine packet
// sent first (the control) reaches it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { hopFieldKeyMaterial } from '../../bpf/aes_keys';
import { realtimeOffsetNs } from '../../bpf/clock';
import { EdgeDatapath, PIN_BASE } from '../../bpf/datapath';
import { EmbeddedPathService } from '../../controlplane/pathservice';
import { scopedIdentity } from '../../identity/cluster_scope';
import { parseIA } from '../../scion/isdas';
import type { ScionPath } from '../../scion/path/model';
import { cillionSpaoOption, CILLION_SPI, sealCillion } from '../../scion/spao/cillion';
import { IPPROTO_UDP, ipv4Packet, scionFrame, transitHop, udpDatagram, UNDERLAY_LEN } from './harness/frames';
import { processSourceHop } from '../../bpf/template';
import { requireDatapath } from './harness/require';
import { Topology } from './harness/topology';
import { EXAMPLE_TOPOLOGY } from './harness/wan';

const ZRH = parseIA('64-2:0:20');
const ZRH_CORE = parseIA('64-2:0:10');
const FRA_CORE = parseIA('65-2:0:10');
const FRA = parseIA('65-2:0:20');
const PORT_BASE = 52000;
const SEC = 1_000_000_000n;
const POD_IP = '10.165.0.7';
const ZRH_POD_IP = '10.164.0.5';
const ZRH_BILLING = scopedIdentity(1, 256);
const EDGE_IP = '10.201.9.2';
const EVIL_IP = '10.201.9.1';

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

// Sends each hex payload as one UDP datagram from `sport` to `dst`:`dport`, then exits.
const SENDER = `
const s = require('dgram').createSocket('udp4');
const [dst, dport, sport, ...hex] = process.argv.slice(1);
s.bind(Number(sport), () => {
  let left = hex.length;
  for (const h of hex) s.send(Buffer.from(h, 'hex'), Number(dport), dst, () => { if (--left === 0) s.close(); });
});`;

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('datapath: authenticators forged, replayed and stale from outside the mesh, over a real link', function () {
  requireDatapath(this);
  this.timeout(30000);
  const instance = `spao-attack-${process.pid}`;
  const hosts = new Topology(`cilsa${process.pid}`);
  const key = randomBytes(16);
  let fra: EdgeDatapath;
  let evil: string;
  let pod: string;
  let atFra: ScionPath;
  let ports: { edge: number; far: number };
  let epochBeginNs: bigint;

  /** UDP datagrams the pod's stack took in (delivered or refused for want of a socket). */
  const podUdpIn = (): number => {
    const snmp = hosts.exec(pod, 'cat', ['/proc/net/snmp']).split('\n').filter((l) => l.startsWith('Udp:'));
    const [names, values] = snmp.map((l) => l.split(/\s+/).slice(1));
    const v = (n: string): number => Number(values![names!.indexOf(n)]);
    return v('InDatagrams') + v('NoPorts') + v('InErrors');
  };

  /** The SCION bytes (after the underlay) of a packet from Zurich billing to the pod. */
  const scionBytes = (o: { sendNs?: bigint; sealKey?: Uint8Array; spao?: boolean; payload: string; identity?: number }): Buffer => {
    const opt = cillionSpaoOption(epochBeginNs, o.sendNs ?? nowNs());
    const data = Buffer.alloc(28);
    data.writeUInt32BE(CILLION_SPI, 0);
    data.writeUIntBE(opt.timestampSeq, 6, 6);
    const { frame } = scionFrame({
      underlay: { srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', srcIp: EVIL_IP, dstIp: EDGE_IP, srcPort: ports.far, dstPort: ports.edge },
      srcIA: ZRH, dstIA: FRA, srcHost: ZRH_POD_IP, dstHost: POD_IP, path: atFra,
      ...(o.spao === false ? {} : { e2e: [{ type: 2, data }] }),
      identity: o.identity ?? ZRH_BILLING,
      inner: ipv4Packet({ src: ZRH_POD_IP, dst: POD_IP, proto: IPPROTO_UDP, payload: udpDatagram(41000, 7000, Buffer.from(o.payload)) }),
    });
    const scion = frame.subarray(UNDERLAY_LEN);
    return o.spao === false ? Buffer.from(scion) : Buffer.from(sealCillion(scion, o.sealKey ?? key));
  };

  const inject = (payloads: Buffer[]): void => {
    hosts.exec(evil, process.execPath, ['-e', SENDER, EDGE_IP, String(ports.edge), String(ports.far), ...payloads.map((p) => p.toString('hex'))]);
  };

  before(() => {
    rmSync(join(PIN_BASE, instance), { recursive: true, force: true });
    evil = hosts.addHost('evil');
    const edge = hosts.addHost('edge');
    pod = hosts.addHost('pod');
    const up = hosts.link({ ns: edge, ifname: 'up0', addr: `${EDGE_IP}/24` }, { ns: evil, ifname: 'eth0', addr: `${EVIL_IP}/24` });
    const podLink = hosts.link({ ns: edge, ifname: 'pod0' }, { ns: pod, ifname: 'eth0', addr: `${POD_IP}/32` });
    const ipn = (ns: string, ...args: string[]) => execFileSync('ip', ['-n', ns, ...args]);
    hosts.exec(edge, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    ipn(edge, 'route', 'add', `${POD_IP}/32`, 'dev', 'pod0');
    ipn(edge, 'route', 'add', 'default', 'via', EVIL_IP, 'dev', 'up0');
    ipn(edge, 'neigh', 'replace', POD_IP, 'lladdr', podLink.b.mac, 'dev', 'pod0', 'nud', 'permanent');
    ipn(pod, 'route', 'add', 'default', 'dev', 'eth0');

    const control = EmbeddedPathService.fromFile(EXAMPLE_TOPOLOGY, { seed: 7 });
    const there = control.pathsSync(ZRH, FRA).find((c) => c.ases.length === 4 && [ZRH, ZRH_CORE, FRA_CORE, FRA].every((ia, i) => c.ases[i] === ia));
    assert.ok(there, 'the core path Zurich -> Frankfurt');
    const ifs = there.interfaces.map((i) => i.ifid);
    atFra = transitHop(transitHop(processSourceHop(there.path).path).path).path;
    ports = { edge: PORT_BASE + ifs[5]!, far: PORT_BASE + ifs[4]! };

    fra = EdgeDatapath.load({ instance, spao: 'on' });
    assert.equal(fra.spao.state, 'on', `authentication on: ${fra.spao.reason ?? ''}`);
    fra.config.set(0, { localIA: FRA, realtimeOffsetNs: realtimeOffsetNs(), key: hopFieldKeyMaterial(control.topology.ases.get(FRA)!.hopKey) });
    fra.ifindexToIfid.set(up.a.ifindex, ifs[5]!);
    fra.interfaces.set(ifs[5]!, {
      ifindex: up.a.ifindex, localIp: EDGE_IP, remoteIp: EVIL_IP, localPort: ports.edge, remotePort: ports.far, localMac: up.a.mac, remoteMac: up.b.mac,
    });
    fra.endpoints.set(POD_IP, { identity: scopedIdentity(2, 256), ifindex: podLink.a.ifindex });
    epochBeginNs = nowNs() - 60n * SEC;
    fra.keys!.put({ peerIa: ZRH, dir: 'rx', epochBeginNs, notAfterNs: epochBeginNs + 3600n * SEC, clusterId: 1, key });
    fra.attach(up.a.ifindex, `/var/run/netns/${edge}`);
  });

  after(() => {
    fra?.close();
    hosts.destroy();
    rmSync(join(PIN_BASE, instance), { recursive: true, force: true });
  });

  it('delivers the one genuine packet, then drops every forgery, replay and stale recording: each counted, none reaches the pod', async () => {
    // The control: a packet a Zurich node sealed, which the attacker records on its way.
    const recorded = scionBytes({ payload: 'genuine' });
    const podBefore = podUdpIn();
    inject([recorded]);
    await until('the genuine packet at the pod', () => podUdpIn() === podBefore + 1 && fra.counter('DECAP') === 1n);

    const attacks: Array<[string, Buffer]> = [
      ['replay of the recorded packet', recorded],
      ['forged authenticator', (() => {
        const b = scionBytes({ payload: 'forged tag' });
        // The SPAO data starts 4 bytes into the 32-byte extension right after the SCION header.
        const at = b[5]! * 4 + 4 + 12;
        randomBytes(16).copy(b, at);
        return b;
      })()],
      ['forged identity under a recorded tag', (() => {
        const b = Buffer.from(recorded);
        b[b[5]! * 4 + 32 + 7] ^= 0x01;
        return b;
      })()],
      ['sealed under a key the attacker made up', scionBytes({ payload: 'own key', sealKey: randomBytes(16) })],
      ['stale recording (10 s old)', scionBytes({ payload: 'old', sendNs: nowNs() - 10n * SEC })],
      ['no SPAO at all', scionBytes({ payload: 'bare', spao: false })],
    ];
    const want = { AUTH_REPLAYED: 1n, AUTH_BAD_MAC: 3n, AUTH_STALE: 1n, AUTH_MISSING: 1n };
    inject(attacks.map(([, b]) => b));
    await until('every attack counted', () => Object.entries(want).every(([k, n]) => fra.counter(k as 'AUTH_STALE') === n));
    assert.equal(fra.counter('DECAP'), 1n, 'only the genuine packet was delivered');
    assert.equal(podUdpIn(), podBefore + 1, 'the pod received none of the attacks');
    for (const [reason, n] of Object.entries(want)) assert.equal(fra.counter(reason as 'AUTH_STALE'), n, reason);
  });
});
