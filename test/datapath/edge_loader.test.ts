// The edge loader (bpf/datapath.ts) over the real kernel: const tunables, pinned maps that
// a second load finds, typed map access including the array that stands for absence
// with zeros. The addon itself is tested in addon.test.ts.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EdgeDatapath, PIN_BASE } from '../../bpf/datapath';
import { BpfMap, RingReader } from '../../bpf/native';
import { requireDatapath } from './harness/require';

const INSTANCE = `edgetest${process.pid}`;

/** Ethernet + IPv4 + UDP from `src` to `dst`. */
function udpFrame(src: string, dst: string, sport: number, payload = 32): Buffer {
  const f = Buffer.alloc(14 + 20 + 8 + payload);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + 8 + payload, 16);
  f[22] = 64;
  f[23] = 17;
  Buffer.from(src.split('.').map(Number)).copy(f, 26);
  Buffer.from(dst.split('.').map(Number)).copy(f, 30);
  f.writeUInt16BE(sport, 34);
  f.writeUInt16BE(7000, 36);
  f.writeUInt16BE(8 + payload, 38);
  return f;
}

/** An edge whose egress encapsulates 10.164.0.5 -> 10.165.0.0/16 on a made-up path. */
function programmedEdge(instance: string, records = true): EdgeDatapath {
  const dp = EdgeDatapath.load({ instance, records });
  dp.endpoints.set('10.164.0.5', { identity: 300, ifindex: 1 });
  const header = Buffer.alloc(36 + 4 + 8 + 24);
  header[5] = header.length / 4;
  header[8] = 1;
  header.writeUInt32BE((1 << 24) | (2 << 12), 36);
  dp.paths.set(7, {
    ifindex: 99, mtu: 1400, srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02', srcIp: '10.200.0.1',
    dstIp: '10.200.0.2', srcPort: 50001, dstPort: 50004, egressIfid: 1, header,
  });
  dp.egressPolicy.set({ identity: 300, prefix: '10.165.0.0/16' }, [7]);
  return dp;
}

describe('bpf/datapath: the edge loader in the real kernel', function () {
  requireDatapath(this);
  const opened: Array<{ close(): void }> = [];

  before(() => rmSync(join(PIN_BASE, INSTANCE), { recursive: true, force: true }));
  afterEach(() => {
    for (const o of opened.splice(0)) o.close();
  });
  after(() => rmSync(join(PIN_BASE, INSTANCE), { recursive: true, force: true }));

  it('sets const volatile tunables before load: records off still counts', () => {
    const on = programmedEdge(`${INSTANCE}/on`);
    const off = programmedEdge(`${INSTANCE}/off`, false);
    opened.push(on, off);
    for (const dp of [on, off]) {
      for (let i = 0; i < 5; i++) {
        const r = dp.obj.program('edge_egress').testRun(udpFrame('10.164.0.5', '10.165.0.7', 1000));
        assert.equal(r.retval, 7, 'TC_ACT_REDIRECT to the path device');
      }
      assert.equal(dp.counter('ENCAP'), 5n);
    }
    const drained = (dp: EdgeDatapath) => new RingReader(dp.events, { bufferBytes: 1 << 16, onBatch: () => undefined }).drain().records;
    assert.equal(drained(on), 5);
    assert.equal(drained(off), 0);
  });

  it('pins maps by name; a second object and openPinned see the same entries', () => {
    const first = programmedEdge(`${INSTANCE}/pin`);
    opened.push(first);
    const second = EdgeDatapath.load({ instance: `${INSTANCE}/pin` });
    opened.push(second);
    assert.deepEqual(second.endpoints.get('10.164.0.5'), { identity: 300, ifindex: 1 });
    const raw = BpfMap.openPinned(join(PIN_BASE, INSTANCE, 'pin', 'endpoints'));
    opened.push(raw);
    assert.equal(raw.dump().length, 1);
    second.endpoints.delete('10.164.0.5');
    assert.equal(first.endpoints.get('10.164.0.5'), null);
  });

  it('reads, writes, batches and dumps typed entries, per-CPU values included', () => {
    const dp = EdgeDatapath.load({ instance: `${INSTANCE}/maps` });
    opened.push(dp);
    const many = Array.from({ length: 300 }, (_, i) => [`10.164.${i >> 8}.${i & 255}`, { identity: 1000 + i, ifindex: 3 }] as const);
    dp.endpoints.setMany(many);
    const dumped = new Map(dp.endpoints.entries());
    assert.equal(dumped.size, 300);
    assert.deepEqual(dumped.get('10.164.1.4'), { identity: 1260, ifindex: 3 });
    assert.equal(dp.endpoints.deleteMany(many.slice(0, 100).map(([k]) => k)), 100);
    assert.equal(dp.endpoints.entries().length, 200);
    assert.equal(dp.egressPolicy.get({ identity: 1, prefix: '10.0.0.0/8' }), null);
    dp.egressPolicy.set({ identity: 1, prefix: '10.0.0.0/8' }, [3, 4]);
    assert.deepEqual(dp.egressPolicy.entries(), [[{ identity: 1, prefix: '10.0.0.0/8' }, [3, 4]]]);
    assert.equal(dp.counters.userValueSize, 16 * dp.counters.possibleCpus);
    assert.throws(() => dp.counters.lookup(Buffer.alloc(3)), { code: 'BAD_SIZE' });
  });

  it('treats an all-zero interface slot as absent: delete writes zeros, dump skips them', () => {
    const dp = EdgeDatapath.load({ instance: `${INSTANCE}/ifaces` });
    opened.push(dp);
    const entry = {
      ifindex: 5, localIp: '10.200.0.1', remoteIp: '10.200.0.2', localPort: 50001, remotePort: 50004,
      localMac: '02:00:00:00:00:01', remoteMac: '02:00:00:00:00:02',
    };
    dp.interfaces.set(1, entry);
    dp.interfaces.set(7, { ...entry, ifindex: 6 });
    assert.deepEqual(dp.interfaces.entries().map(([k]) => k), [1, 7]);
    assert.equal(dp.interfaces.delete(7), true);
    assert.equal(dp.interfaces.delete(7), false);
    assert.deepEqual(dp.interfaces.entries(), [[1, entry]]);
  });
});
