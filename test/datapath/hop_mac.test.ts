// Which hop-field MAC the router runs, proven from the outside: the loader reports the
// kernel's crypto kfuncs where the kernel has them, a packet whose MACs come from the
// TypeScript CMAC forwards through that program even with the table AES's round keys
// wiped (so the kernel cipher made the MAC), the kernel cipher reproduces RFC 4493's
// one-block tag, and the forced table fallback still forwards and still drops bad MACs.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hopFieldKeyMaterial } from '../../bpf/aes_keys';
import { realtimeOffsetNs } from '../../bpf/clock';
import { PIN_BASE, RouterDatapath } from '../../bpf/datapath';
import { HopCipher } from '../../bpf/hop_cipher';
import { processSourceHop } from '../../bpf/template';
import { EmbeddedPathService } from '../../controlplane/pathservice';
import { cmacSubkeys } from '../../scion/mac/cmac';
import { parseIA } from '../../scion/isdas';
import { ipv4Packet, IPPROTO_UDP, scionFrame, udpDatagram, type ScionFrameLayout } from './harness/frames';
import { requireDatapath } from './harness/require';
import { EXAMPLE_TOPOLOGY } from './harness/wan';

const INSTANCE = `hopmac-${process.pid}`;
const ZRH = parseIA('64-2:0:20');
const ZRH_CORE = parseIA('64-2:0:10');
const FRA = parseIA('65-2:0:20');
/** The test runs in the root namespace on lo: BPF_PROG_TEST_RUN needs an existing ingress device. */
const LO = 1;
/** Both interfaces sit on lo here, so a forward is a transmit back out of the same device. */
const XDP_TX = 3;
const XDP_DROP = 1;

function xdpCtx(ifindex: number, len: number): Buffer {
  const c = Buffer.alloc(24);
  c.writeUInt32LE(len, 4);
  c.writeUInt32LE(ifindex, 12);
  return c;
}

function kernelHasCryptoKfuncs(): boolean {
  return readFileSync('/sys/kernel/btf/vmlinux').includes('bpf_crypto_encrypt');
}

describe('datapath: hop-field MACs through the kernel crypto kfuncs, and the table fallback', function () {
  requireDatapath(this);
  this.timeout(20000);
  const control = EmbeddedPathService.fromFile(EXAMPLE_TOPOLOGY);
  const key = control.topology.ases.get(ZRH_CORE)?.hopKey as Uint8Array;
  const there = control.pathsSync(ZRH, FRA).find((p) => p.ases.length === 4 && p.ases[1] === ZRH_CORE);
  if (!there) throw new Error('no ZRH -> FRA path through the Zurich core');
  const [zrhUp, coreIn, coreOut, fraCoreIn] = there.interfaces.map((i) => i.ifid);
  const u = { srcMac: '02:00:00:00:00:02', dstMac: '02:00:00:00:00:01', srcIp: '10.201.1.1', dstIp: '10.201.1.2', srcPort: 50000 + zrhUp, dstPort: 50000 + coreIn };
  const packet = (): { frame: Buffer; layout: ScionFrameLayout } =>
    scionFrame({
      underlay: u, srcIA: ZRH, dstIA: FRA, srcHost: '10.164.0.5', dstHost: '10.165.0.7', path: processSourceHop(there.path).path,
      identity: 300, inner: ipv4Packet({ src: '10.164.0.5', dst: '10.165.0.7', proto: IPPROTO_UDP, payload: udpDatagram(40000, 7000, Buffer.from('mac')) }),
    });
  const opened: RouterDatapath[] = [];

  const load = (name: string, hopMac: 'auto' | 'table'): RouterDatapath => {
    const dp = RouterDatapath.load({ instance: `${INSTANCE}/${name}`, hopMac });
    opened.push(dp);
    dp.config.set(0, { localIA: ZRH_CORE, realtimeOffsetNs: realtimeOffsetNs(), key: hopFieldKeyMaterial(key) });
    dp.ifindexToIfid.set(LO, coreIn);
    const iface = { localPort: 50000 + coreIn, remotePort: 50000 + zrhUp, localMac: u.dstMac, remoteMac: u.srcMac };
    dp.interfaces.set(coreIn, { ...iface, ifindex: LO, localIp: u.dstIp, remoteIp: u.srcIp });
    dp.interfaces.set(coreOut, { ...iface, ifindex: LO, localIp: '10.201.2.1', remoteIp: '10.201.2.2', remotePort: 50000 + fraCoreIn });
    return dp;
  };
  /** The frame with one bit of the current hop field's MAC flipped. */
  const badMac = (frame: Buffer, layout: ScionFrameLayout): Buffer => {
    const bad = Buffer.from(frame);
    const currHf = processSourceHop(there.path).path.meta.currHf;
    bad[layout.path + 4 + 8 * layout.nInf + 12 * currHf + 6] ^= 1;
    return bad;
  };
  /** Runs `frame` through the router and checks its XDP verdict, naming the counters when it is not `want`. */
  const send = (dp: RouterDatapath, frame: Buffer, want: number, why = ''): void => {
    const got = dp.obj.program('router').testRun(frame, { ctx: xdpCtx(LO, frame.length) }).retval;
    const counters = JSON.stringify(dp.counterTotals(), (_, v) => (typeof v === 'bigint' ? String(v) : v));
    assert.equal(got, want, `${why} (${dp.hopMac.method} router, counters ${counters})`);
  };
  /** The config with every round key but the first four (the key itself) wiped: what only the table AES reads. */
  const wipeRoundKeys = (dp: RouterDatapath): void => {
    const m = hopFieldKeyMaterial(key);
    m.roundKeys.fill(0, 4);
    dp.config.set(0, { localIA: ZRH_CORE, realtimeOffsetNs: realtimeOffsetNs(), key: m });
  };

  after(() => {
    for (const dp of opened) dp.close();
    rmSync(join(PIN_BASE, INSTANCE), { recursive: true, force: true });
  });

  it('loads the kfunc router where the kernel has the kfuncs, and its MACs are the kernel cipher\'s', function () {
    if (!kernelHasCryptoKfuncs()) this.skip();
    const dp = load('kfunc', 'auto');
    assert.equal(dp.hopMac.method, 'kfunc', `fell back: ${dp.hopMac.reason}`);
    assert.match(dp.hopMac.driver ?? '', /^ecb\(aes/);
    const { frame, layout } = packet();
    send(dp, frame, XDP_TX);
    wipeRoundKeys(dp);
    send(dp, frame, XDP_TX, 'the MAC must not depend on the table AES round keys');
    send(dp, badMac(frame, layout), XDP_DROP);
    assert.equal(dp.counter('FORWARD'), 2n);
    assert.equal(dp.counter('BAD_MAC'), 1n);
  });

  it('the kernel cipher gives RFC 4493\'s tag for its one-block example from XDP', function () {
    if (!kernelHasCryptoKfuncs()) this.skip();
    const dp = opened.find((d) => d.hopMac.method === 'kfunc') ?? load('kfunc', 'auto');
    const rfcKey = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
    const m = Buffer.from('6bc1bee22e409f96e93d7e117393172a', 'hex');
    const k1 = cmacSubkeys(rfcKey).k1;
    new HopCipher(dp.obj).install(rfcKey, 1);
    const block = Buffer.from(m.map((b, i) => b ^ k1[i]));
    const out = dp.obj.program('hop_cipher_probe').testRun(Buffer.concat([block, Buffer.alloc(48)]));
    assert.equal(out.data.subarray(0, 16).toString('hex'), '070a16b46b4d4144f79bdd9dd04a287c');
  });

  it('falls back to the table AES when forced, which forwards good MACs and drops bad ones', function () {
    const dp = load('table', 'table');
    assert.deepEqual(dp.hopMac, { method: 'table', reason: 'forced by the loader option' });
    assert.ok(!dp.obj.programs.includes('hop_cipher_install'));
    const { frame, layout } = packet();
    send(dp, frame, XDP_TX);
    send(dp, badMac(frame, layout), XDP_DROP);
    // The same wiped round keys the kfunc router ignores break the table AES's MAC.
    wipeRoundKeys(dp);
    send(dp, frame, XDP_DROP);
    assert.equal(dp.counter('FORWARD'), 1n);
    assert.equal(dp.counter('BAD_MAC'), 2n);
  });
});
