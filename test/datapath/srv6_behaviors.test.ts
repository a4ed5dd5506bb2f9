// Each SRv6 behavior and each drop reason of bpf/srv6.bpf.c, provoked one at a time through
// BPF_PROG_TEST_RUN on crafted frames: the verdict, the rewritten frame, exactly one counter
// and, for every handled packet, one record naming what happened.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CounterName } from '../../bpf/abi';
import { PIN_BASE } from '../../bpf/datapath';
import { ipv6Bytes, ipv6String } from '../../bpf/maps';
import type { PacketRecord } from '../../bpf/records';
import { Srv6Datapath } from '../../bpf/srv6_datapath';
import { ethernet, ipv4Packet, udpDatagram, IPPROTO_UDP } from './harness/frames';
import { requireDatapath } from './harness/require';
import { buildSrh, ipv6Packet, skbCtx, srv6Frame, Srv6Net, xdpCtx, ETH_P_IPV6 } from './harness/srv6';
import { Topology } from './harness/topology';

const PREFIX = `bpfsrv6b${process.pid}`;
const XDP_DROP = 1;
const XDP_PASS = 2;
const XDP_TX = 3;
const XDP_REDIRECT = 4;
const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const TC_ACT_REDIRECT = 7;
const TC_ACT_UNSPEC = 0xffffffff;

const SRC = 'fc00:0:101::1';
const END = 'fc00:0:1::1';
const END_X = 'fc00:0:1::2';
const DT4 = 'fc00:0:1::100';
const DT6 = 'fc00:0:1::600';
const NEXT = 'fc00:0:2::1'; // routed, neighbour unknown until a test adds it
const NEXT_MTU = 'fc00:0:3::1'; // routed with MTU 1280
const NOWHERE = '2001:db8:5::1'; // no route
const VRF = 100;
const POD = '10.165.0.7';
const POD6 = 'fd00:165::7';
/** End.X's adjacency: another device than the one the packet came in by. */
const LO = 1;
const MAC_X = { src: '02:00:00:00:00:0a', dst: '02:00:00:00:00:0b' };

const seg = (s: string): Uint8Array => ipv6Bytes(s);
const udp4 = (dst = POD, size = 64): Buffer => ipv4Packet({ src: '10.164.0.5', dst, proto: IPPROTO_UDP, payload: udpDatagram(40000, 7000, Buffer.alloc(size, 0x5a)) });
const udp6 = (dst = POD6): Buffer => ipv6Packet({ src: 'fd00:164::5', dst, nextHeader: IPPROTO_UDP, payload: udpDatagram(40000, 7000, Buffer.alloc(64, 0x5a)) });
/** `n` Pad1 options, as TLV bytes. */
const pad1 = (n: number): Buffer => Buffer.alloc(n);
/** An HMAC TLV (RFC 8754 §2.1.2) whose length byte says `len`, padded with zeros to a multiple of 8. */
function hmacTlv(len = 38): Buffer {
  const t = Buffer.alloc(Math.ceil((2 + len) / 8) * 8);
  t[0] = 5;
  t[1] = len;
  t.writeUInt32BE(1, 4);
  return t;
}

interface Run {
  retval: number;
  data: Buffer;
  records: PacketRecord[];
  /** Counters that moved, by name, in packets. */
  moved: Record<string, number>;
}

describe('datapath: SRv6 behaviors and drop reasons (BPF_PROG_TEST_RUN)', function () {
  requireDatapath(this);
  this.timeout(30000);
  const hosts = new Topology(PREFIX);
  const instance = `${PREFIX}/srv6`;
  let dp: Srv6Datapath;
  let netns: string;
  let up: { ifindex: number; mac: string };
  let peerMac: string;
  let ns: string;
  let net: Srv6Net;

  function runXdp(frame: Buffer): Run {
    return measure(() => dp.obj.program('srv6_endpoint').testRun(frame, { ctx: xdpCtx(up.ifindex, frame.length), netns }));
  }

  function runTc(frame: Buffer, ctx = skbCtx(up.ifindex)): Run {
    return measure(() => dp.obj.program('srv6_encap').testRun(frame, { ctx, netns }));
  }

  function measure(fn: () => { retval: number; data: Buffer }): Run {
    net.drain(node());
    const before = dp.counterTotals();
    const r = fn();
    const after = dp.counterTotals();
    const moved: Record<string, number> = {};
    for (const [k, v] of Object.entries(after)) {
      const d = Number(v.packets - (before[k]?.packets ?? 0n));
      if (d) moved[k] = d;
    }
    return { retval: r.retval, data: r.data, records: net.drain(node()), moved };
  }

  const node = () => ({ name: 'dp', ns, dp, locator: 'fc00:0:1::/48', ifaces: [] });

  function frame(o: { dst: string; srh?: Uint8Array; inner?: Uint8Array; hopLimit?: number; nextHeader?: number; payloadLen?: number }): Buffer {
    return srv6Frame({ srcMac: peerMac, dstMac: up.mac, src: SRC, inner: o.inner ?? udp4(), ...o });
  }

  /** Expects one drop of `reason`, counted once and recorded once with the SRH when `srhInRecord`. */
  function expectDrop(r: Run, reason: CounterName, srh?: Uint8Array): void {
    assert.equal(r.retval, XDP_DROP, `verdict for ${reason}: ${JSON.stringify(r.moved)}`);
    assert.deepEqual(r.moved, { [reason]: 1 });
    assert.equal(r.records.length, 1);
    const rec = r.records[0];
    assert.equal(rec.verdict, 'DROPPED');
    assert.equal(rec.dropReason, reason);
    assert.equal(rec.pathKind, 'srv6');
    assert.equal(rec.outerSrc, SRC);
    assert.deepEqual(Buffer.from(rec.path), Buffer.from(srh ?? []), 'the SRH as it arrived, or none when its length is not to be trusted');
  }

  before(() => {
    Srv6Net.sweep(PREFIX);
    rmSync(join(PIN_BASE, instance), { recursive: true, force: true });
    ns = hosts.addHost('dp');
    const nb = hosts.addHost('nb');
    netns = `/var/run/netns/${ns}`;
    const l = hosts.link({ ns, ifname: 'up0' }, { ns: nb, ifname: 'peer0' });
    up = l.a;
    peerMac = l.b.mac;
    hosts.exec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
    hosts.exec(ns, 'ip', ['-6', 'addr', 'add', 'fd00:9::1/64', 'dev', 'up0', 'nodad']);
    hosts.exec(ns, 'ip', ['-6', 'route', 'add', 'fc00:0:2::/48', 'via', 'fd00:9::2', 'dev', 'up0']);
    // Forwarding honours a route MTU only when it is locked.
    hosts.exec(ns, 'ip', ['-6', 'route', 'add', 'fc00:0:3::/48', 'via', 'fd00:9::2', 'dev', 'up0', 'mtu', 'lock', '1280']);
    net = new Srv6Net(PREFIX);
    dp = Srv6Datapath.load({ instance });
    dp.locators.set('fc00:0:1::/48', 1);
    const none = { ifindex: 0, srcMac: '00:00:00:00:00:00', dstMac: '00:00:00:00:00:00' };
    dp.localSids.set(END, { behavior: 'End', tenantId: 0, ...none });
    dp.localSids.set(END_X, { behavior: 'End.X', tenantId: 0, ifindex: LO, srcMac: MAC_X.src, dstMac: MAC_X.dst });
    dp.localSids.set(DT4, { behavior: 'End.DT4', tenantId: VRF, ...none });
    dp.localSids.set(DT6, { behavior: 'End.DT6', tenantId: VRF, ...none });
    dp.tenantRoutes4.set({ tenantId: VRF, prefix: '10.165.0.0/16' }, { ifindex: 0, identity: 400 });
    dp.tenantRoutes4.set({ tenantId: 200, prefix: '10.200.0.0/16' }, { ifindex: 0, identity: 0 });
    dp.tenantRoutes6.set({ tenantId: VRF, prefix: 'fd00:165::/64' }, { ifindex: 0, identity: 400 });
  });

  after(() => {
    dp?.close();
    hosts.destroy();
    rmSync(join(PIN_BASE, PREFIX), { recursive: true, force: true });
  });

  describe('srv6_endpoint (XDP)', () => {
    it('passes what is not IPv6 to a local locator, counted as NOT_SRV6 and not recorded', () => {
      for (const f of [ethernet(up.mac, peerMac, 0x0800, udp4()), frame({ dst: '2001:db8::1', srh: buildSrh([seg('2001:db8::1')]) })]) {
        const r = runXdp(f);
        assert.equal(r.retval, XDP_PASS);
        assert.deepEqual(r.moved, { NOT_SRV6: 1 });
        assert.equal(r.records.length, 0);
      }
    });

    it('End: Segments Left down by one, the next segment as destination, hop limit down by one, out of the FIB next hop (here back out of the same device)', () => {
      hosts.exec(ns, 'ip', ['-6', 'neigh', 'replace', 'fd00:9::2', 'lladdr', peerMac, 'dev', 'up0']);
      try {
        const srh = buildSrh([seg(END), seg(NEXT)]);
        const r = runXdp(frame({ dst: END, srh }));
        assert.equal(r.retval, XDP_TX);
        assert.deepEqual(r.moved, { SRV6_END: 1 });
        const out = r.data;
        assert.equal(out.subarray(0, 6).toString('hex'), peerMac.replace(/:/g, ''), 'to the neighbour');
        assert.equal(out.subarray(6, 12).toString('hex'), up.mac.replace(/:/g, ''));
        assert.equal(out[14 + 7], 63);
        assert.equal(ipv6String(out, 14 + 24), NEXT);
        assert.equal(out[54 + 3], 0, 'Segments Left');
        const rec = r.records[0];
        assert.equal(rec.direction, 'ROUTER_FORWARD');
        assert.equal(rec.outerDst, END);
        assert.deepEqual(Buffer.from(rec.path), srh, 'the SRH as it arrived');
      } finally {
        hosts.exec(ns, 'ip', ['-6', 'neigh', 'del', 'fd00:9::2', 'dev', 'up0']);
      }
    });

    it('End: without a neighbour entry the rewritten packet goes to the stack, which forwards it and counts the hop', () => {
      const r = runXdp(frame({ dst: END, srh: buildSrh([seg(END), seg(NEXT)]) }));
      assert.equal(r.retval, XDP_PASS);
      assert.deepEqual(r.moved, { SRV6_END: 1 });
      assert.equal(ipv6String(r.data, 14 + 24), NEXT);
      assert.equal(r.data[54 + 3], 0);
      assert.equal(r.data[14 + 7], 64, 'the stack decrements the hop limit itself');
    });

    it('End.X: to the SID adjacency with its MACs, whatever the FIB says', () => {
      const r = runXdp(frame({ dst: END_X, srh: buildSrh([seg(END_X), seg(NOWHERE)]) }));
      assert.equal(r.retval, XDP_REDIRECT);
      assert.deepEqual(r.moved, { SRV6_END: 1 });
      assert.equal(r.data.subarray(0, 12).toString('hex'), (MAC_X.dst + MAC_X.src).replace(/:/g, ''));
      assert.equal(ipv6String(r.data, 14 + 24), NOWHERE);
      assert.equal(r.data[14 + 7], 63);
    });

    it('End.DT4: strips the outer headers into the tenant table; the record carries tenant and inner 5-tuple', () => {
      const srh = buildSrh([seg(END), seg(DT4)]);
      srh[3] = 0;
      const inner = udp4();
      const r = runXdp(frame({ dst: DT4, srh, inner }));
      assert.equal(r.retval, XDP_PASS);
      assert.deepEqual(r.moved, { SRV6_DECAP: 1 });
      assert.equal(r.data.readUInt16BE(12), 0x0800);
      assert.deepEqual(r.data.subarray(14), inner);
      const rec = r.records[0];
      assert.equal(rec.direction, 'INGRESS_DECAP');
      assert.equal(rec.tenantId, VRF);
      assert.equal(rec.identity, 0);
      assert.equal(rec.podLen, 14 + inner.length);
      assert.deepEqual(rec.inner, { proto: 17, srcAddr: '10.164.0.5', dstAddr: POD, srcPort: 40000, dstPort: 7000, tcpFlags: 0 });
      assert.deepEqual(Buffer.from(rec.path), srh);
    });

    it('End.DT6: strips the outer headers from an inner IPv6 packet; the record carries IPv6 inner addresses', () => {
      const srh = buildSrh([seg(DT6)], { nextHeader: 41 });
      const inner = udp6();
      const r = runXdp(frame({ dst: DT6, srh, inner }));
      assert.equal(r.retval, XDP_PASS);
      assert.deepEqual(r.moved, { SRV6_DECAP: 1 });
      assert.equal(r.data.readUInt16BE(12), ETH_P_IPV6);
      assert.deepEqual(r.data.subarray(14), inner);
      assert.deepEqual(r.records[0].inner, { proto: 17, srcAddr: 'fd00:164::5', dstAddr: POD6, srcPort: 40000, dstPort: 7000, tcpFlags: 0 });
    });

    it('accepts an SRH as long as a record holds (19 segments) and drops a longer one as MALFORMED', () => {
      const many = (n: number): Uint8Array[] => [seg(END), ...Array.from({ length: n - 1 }, () => seg(NEXT))];
      const ok = runXdp(frame({ dst: END, srh: buildSrh(many(19)) }));
      assert.equal(ok.retval, XDP_PASS);
      assert.deepEqual(ok.moved, { SRV6_END: 1 });
      assert.equal(ok.records[0].path.length, 8 + 19 * 16);
      expectDrop(runXdp(frame({ dst: END, srh: buildSrh(many(20)) })), 'SRH_MALFORMED');
    });

    it('counts an HMAC TLV of the right length and forwards; the TLV walk stops at 16 TLVs', () => {
      const r = runXdp(frame({ dst: END, srh: buildSrh([seg(END), seg(NEXT)], { tlvs: hmacTlv() }) }));
      assert.equal(r.retval, XDP_PASS);
      assert.deepEqual(r.moved, { SRV6_END: 1, SRV6_HMAC_TLV: 1 });
      const sixteen = runXdp(frame({ dst: END, srh: buildSrh([seg(END), seg(NEXT)], { tlvs: pad1(16) }) }));
      assert.deepEqual(sixteen.moved, { SRV6_END: 1 });
      const srh = buildSrh([seg(END), seg(NEXT)], { tlvs: pad1(24) });
      expectDrop(runXdp(frame({ dst: END, srh })), 'SRH_BAD_TLV', srh);
    });

    const drops: Array<{ name: string; reason: CounterName; build: () => { f: Buffer; srh?: Uint8Array } }> = [
      { name: 'a destination inside the locator that is no local SID', reason: 'SRV6_UNKNOWN_SID', build: () => ({ f: frame({ dst: 'fc00:0:1::99', srh: buildSrh([seg('fc00:0:1::99')]) }) }) },
      { name: 'a SID reached without a routing header', reason: 'SRV6_NO_SRH', build: () => ({ f: frame({ dst: END, nextHeader: 17 }) }) },
      {
        name: 'a routing header of another type', reason: 'SRV6_NO_SRH', build: () => {
          const srh = buildSrh([seg(END), seg(NEXT)]);
          srh[2] = 2;
          return { f: frame({ dst: END, srh }) };
        },
      },
      { name: 'an IPv6 payload length past the frame', reason: 'SRH_MALFORMED', build: () => ({ f: frame({ dst: END, srh: buildSrh([seg(END), seg(NEXT)]), payloadLen: 2000 }) }) },
      {
        name: 'a header length past the packet', reason: 'SRH_MALFORMED', build: () => {
          const srh = buildSrh([seg(END), seg(NEXT)]);
          srh[1] = 40;
          return { f: frame({ dst: END, srh, inner: Buffer.alloc(0) }) };
        },
      },
      {
        name: 'a header length too short for one segment', reason: 'SRH_MALFORMED', build: () => {
          const srh = buildSrh([seg(END)]);
          srh[1] = 1;
          return { f: frame({ dst: END, srh }) };
        },
      },
      {
        name: 'a Last Entry past the header length', reason: 'SRH_BAD_LAST_ENTRY', build: () => {
          const srh = buildSrh([seg(END), seg(NEXT)]);
          srh[4] = 2;
          return { f: frame({ dst: END, srh }), srh };
        },
      },
      {
        name: 'Segments Left above Last Entry', reason: 'SRH_BAD_SEGLEFT', build: () => {
          const srh = buildSrh([seg(END), seg(NEXT)]);
          srh[3] = 2;
          return { f: frame({ dst: END, srh }), srh };
        },
      },
      {
        name: 'Segments Left 0 at End', reason: 'SRH_BAD_SEGLEFT', build: () => {
          const srh = buildSrh([seg(END), seg(NEXT)]);
          srh[3] = 0;
          return { f: frame({ dst: END, srh }), srh };
        },
      },
      {
        name: 'Segments Left not 0 at End.DT4', reason: 'SRH_BAD_SEGLEFT', build: () => {
          const srh = buildSrh([seg(DT4), seg(NEXT)]);
          return { f: frame({ dst: DT4, srh }), srh };
        },
      },
      {
        name: 'a TLV overrunning the header', reason: 'SRH_BAD_TLV', build: () => {
          const tlvs = Buffer.from([4, 10, 0, 0, 0, 0, 0, 0]);
          const srh = buildSrh([seg(END), seg(NEXT)], { tlvs });
          return { f: frame({ dst: END, srh }), srh };
        },
      },
      {
        name: 'an HMAC TLV of the wrong length', reason: 'SRH_BAD_TLV', build: () => {
          const srh = buildSrh([seg(END), seg(NEXT)], { tlvs: hmacTlv(30) });
          return { f: frame({ dst: END, srh }), srh };
        },
      },
      {
        name: 'two HMAC TLVs', reason: 'SRH_BAD_TLV', build: () => {
          const srh = buildSrh([seg(END), seg(NEXT)], { tlvs: Buffer.concat([hmacTlv(), hmacTlv()]) });
          return { f: frame({ dst: END, srh }), srh };
        },
      },
      {
        name: 'hop limit 1 at End', reason: 'SRV6_HOP_LIMIT', build: () => {
          const srh = buildSrh([seg(END), seg(NEXT)]);
          return { f: frame({ dst: END, srh, hopLimit: 1 }), srh };
        },
      },
      {
        name: 'no route to the next segment', reason: 'SRV6_NO_ROUTE', build: () => {
          const srh = buildSrh([seg(END), seg(NOWHERE)]);
          return { f: frame({ dst: END, srh }), srh };
        },
      },
      {
        name: 'a packet larger than the route MTU towards the next segment', reason: 'PATH_MTU', build: () => {
          const srh = buildSrh([seg(END), seg(NEXT_MTU)]);
          return { f: frame({ dst: END, srh, inner: udp4(POD, 1300) }), srh };
        },
      },
      {
        name: 'End.DT4 with an IPv6 inner packet', reason: 'SRV6_BAD_INNER', build: () => {
          const srh = buildSrh([seg(DT4)], { nextHeader: 41 });
          return { f: frame({ dst: DT4, srh, inner: udp6() }), srh };
        },
      },
      {
        name: 'End.DT4 with a truncated inner packet', reason: 'SRV6_BAD_INNER', build: () => {
          const srh = buildSrh([seg(DT4)]);
          return { f: frame({ dst: DT4, srh, inner: udp4().subarray(0, 40) }), srh };
        },
      },
      {
        name: 'End.DT6 with an IPv4 inner packet', reason: 'SRV6_BAD_INNER', build: () => {
          const srh = buildSrh([seg(DT6)]);
          return { f: frame({ dst: DT6, srh }), srh };
        },
      },
      {
        name: 'End.DT4 to a destination the tenant has no route for', reason: 'SRV6_NO_TENANT_ROUTE', build: () => {
          const srh = buildSrh([seg(DT4)]);
          return { f: frame({ dst: DT4, srh, inner: udp4('10.99.0.1') }), srh };
        },
      },
      {
        name: "End.DT4 to another tenant's destination", reason: 'SRV6_NO_TENANT_ROUTE', build: () => {
          const srh = buildSrh([seg(DT4)]);
          return { f: frame({ dst: DT4, srh, inner: udp4('10.200.0.1') }), srh };
        },
      },
    ];
    for (const d of drops) {
      it(`drops ${d.name} as ${d.reason}`, () => {
        const { f, srh } = d.build();
        expectDrop(runXdp(f), d.reason, srh);
      });
    }
  });

  describe('srv6_encap (tc)', () => {
    const POD_A = '10.164.0.5';
    const pod = (dst = POD, size = 64): Buffer => ethernet(peerMac, up.mac, 0x0800, ipv4Packet({ src: POD_A, dst, proto: IPPROTO_UDP, payload: udpDatagram(40000, 7000, Buffer.alloc(size, 0x5a)) }));
    const srh = buildSrh([seg(END), seg(DT4)]);
    const header = (): Buffer => Buffer.concat([ipv6Packet({ src: SRC, dst: END, nextHeader: 43, payload: Buffer.alloc(0) }), srh]);

    before(() => {
      dp.endpoints.set(POD_A, { identity: 300, ifindex: 9 });
      dp.seglists.set(1, { ifindex: up.ifindex, mtu: 1500, tenantId: VRF, srcMac: up.mac, dstMac: peerMac, header: header() });
      dp.seglists.set(2, { ifindex: 1, mtu: 1500, tenantId: VRF, srcMac: up.mac, dstMac: peerMac, header: header() });
      dp.seglists.set(3, { ifindex: up.ifindex, mtu: 200, tenantId: VRF, srcMac: up.mac, dstMac: peerMac, header: header() });
      dp.egress.set({ identity: 300, prefix: '10.165.0.0/16' }, [1]);
      dp.egress.set({ identity: 300, prefix: '10.166.0.0/16' }, [2]);
      dp.egress.set({ identity: 300, prefix: '10.167.0.0/16' }, [3]);
      dp.egress.set({ identity: 300, prefix: '10.168.0.0/16' }, [99]);
    });

    it('leaves a packet to edge_egress (TC_ACT_UNSPEC) when no SRv6 policy covers it, counting nothing', () => {
      for (const f of [pod('10.99.0.1'), ethernet(peerMac, up.mac, 0x0800, ipv4Packet({ src: '10.164.0.99', dst: POD, proto: IPPROTO_UDP, payload: udpDatagram(1, 2, Buffer.alloc(8)) }))]) {
        const r = runTc(f);
        assert.equal(r.retval, TC_ACT_UNSPEC);
        assert.deepEqual(r.moved, {});
        assert.equal(r.records.length, 0);
      }
    });

    it('H.Encaps: outer IPv6 with flow label and payload length, the SRH with next header 4, the pod packet unchanged', () => {
      const f = pod();
      const r = runTc(f);
      assert.equal(r.retval, TC_ACT_OK, 'the seglist leaves by the device it runs on');
      assert.deepEqual(r.moved, { SRV6_ENCAP: 1 });
      const out = r.data;
      assert.equal(out.readUInt16BE(12), ETH_P_IPV6);
      assert.equal(out[14] >> 4, 6);
      const flow = out.readUInt32BE(14) & 0xfffff;
      assert.notEqual(flow, 0, 'a flow label from the inner 5-tuple');
      assert.equal(out.readUInt16BE(14 + 4), srh.length + f.length - 14);
      assert.equal(out[14 + 6], 43);
      assert.equal(out[14 + 7], 64);
      assert.equal(ipv6String(out, 14 + 8), SRC);
      assert.equal(ipv6String(out, 14 + 24), END);
      assert.deepEqual(out.subarray(54, 54 + srh.length), srh);
      assert.deepEqual(out.subarray(54 + srh.length), f.subarray(14));
      const rec = r.records[0];
      assert.equal(rec.direction, 'EGRESS_ENCAP');
      assert.equal(rec.pathId, 1);
      assert.equal(rec.identity, 300);
      assert.equal(rec.tenantId, VRF);
      assert.equal(rec.outerSrc, SRC);
      assert.equal(rec.outerDst, END);
      assert.equal(rec.wireLen, out.length);
      assert.equal(rec.podLen, f.length);
      assert.deepEqual(Buffer.from(rec.path), srh);
      assert.equal(runTc(pod(POD)).data.readUInt32BE(14) & 0xfffff, flow, 'the same flow, the same label');
    });

    it('redirects to the segment list device when it is another one', () => {
      const r = runTc(pod('10.166.0.1'));
      assert.equal(r.retval, TC_ACT_REDIRECT);
      assert.deepEqual(r.moved, { SRV6_ENCAP: 1 });
    });

    it('drops a packet the path MTU cannot carry, a GSO packet, and a policy naming a missing segment list, each under its reason', () => {
      // Segment list 3 has MTU 200: outer IPv6 (40) + SRH + IPv4 (20) + UDP (8) + data.
      const fill = 200 - 40 - srh.length - 28;
      const mtu = runTc(pod('10.167.0.1', fill + 1));
      assert.equal(mtu.retval, TC_ACT_SHOT);
      assert.deepEqual(mtu.moved, { PATH_MTU: 1 });
      assert.equal(mtu.records[0].dropReason, 'PATH_MTU');
      assert.deepEqual(Buffer.from(mtu.records[0].path), srh);
      const fits = runTc(pod('10.167.0.1', fill));
      assert.deepEqual(fits.moved, { SRV6_ENCAP: 1 }, 'exactly the MTU fits');
      const gso = runTc(pod(), skbCtx(up.ifindex, { gsoSize: 1000, gsoSegs: 2 }));
      assert.equal(gso.retval, TC_ACT_SHOT);
      assert.deepEqual(gso.moved, { GSO: 1 });
      const none = runTc(pod('10.168.0.1'));
      assert.equal(none.retval, TC_ACT_SHOT);
      assert.deepEqual(none.moved, { SRV6_NO_SEGLIST: 1 });
      assert.equal(none.records[0].pathId, 99);
    });
  });
});
