// The native addon against the real kernel: loading, consts, verifier errors, pinning,
// idempotent attach and detach inside a network namespace, maps, and ring draining that
// neither loses nor repeats a record.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdgeDatapath, PIN_BASE, objectFile } from '../../bpf/datapath';
import { BpfError, BpfMap, BpfObject, RingReader } from '../../bpf/native';
import { decodeBatch } from '../../bpf/records';
import { requireDatapath } from './harness/require';
import { Topology } from './harness/topology';

const INSTANCE = `addontest${process.pid}`;

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

describe('bpf/native: the addon in the real kernel', function () {
  requireDatapath(this);
  let dir: string;
  const opened: Array<{ close(): void }> = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ciladdon-'));
    rmSync(join(PIN_BASE, INSTANCE), { recursive: true, force: true });
  });
  afterEach(() => {
    for (const o of opened.splice(0)) o.close();
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(PIN_BASE, INSTANCE), { recursive: true, force: true });
  });

  it('reports a verifier refusal as LOAD_FAILED with the verifier log, and a bad file as OPEN_FAILED', () => {
    const obj = join(dir, 'unverifiable.bpf.o');
    execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-I', join(__dirname, '..', '..', 'bpf', 'build'), '-c', join(__dirname, 'fixtures', 'unverifiable.bpf.c'), '-o', obj]);
    assert.throws(
      () => BpfObject.open(obj),
      (e: unknown) => e instanceof BpfError && e.code === 'LOAD_FAILED' && /invalid access to packet|R\d/.test(e.message),
    );
    assert.throws(() => BpfObject.open(join(dir, 'missing.o')), { code: 'OPEN_FAILED' });
    assert.throws(() => BpfObject.open(objectFile('edge')).program('nope'), { code: 'NO_SUCH_PROGRAM' });
  });

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

  it('attaches tc and XDP inside a namespace idempotently, and detaches twice without error', () => {
    const hosts = new Topology(`ciladdon${process.pid}`);
    const dp = EdgeDatapath.load({ instance: `${INSTANCE}/attach` });
    opened.push(dp);
    try {
      const a = hosts.addHost('a');
      const b = hosts.addHost('b');
      const l = hosts.link({ ns: a, ifname: 'up0' }, { ns: b, ifname: 'up0' });
      const netns = `/var/run/netns/${a}`;
      const xdpId = () => (JSON.parse(execFileSync('ip', ['-n', a, '-j', 'link', 'show', 'dev', 'up0'], { encoding: 'utf8' }))[0].xdp?.prog?.id ?? null) as number | null;
      const tcFilters = () => JSON.parse(execFileSync('tc', ['-n', a, '-j', 'filter', 'show', 'dev', 'up0', 'egress'], { encoding: 'utf8' }) || '[]').filter((f: { kind?: string; options?: unknown }) => f.kind === 'bpf' && f.options).length;
      dp.attach(l.a.ifindex, netns);
      const id = xdpId();
      assert.ok(id !== null);
      assert.equal(tcFilters(), 1);
      dp.attach(l.a.ifindex, netns);
      assert.equal(xdpId(), id, 'the same program, attached once');
      assert.equal(tcFilters(), 1);
      dp.detach(l.a.ifindex, netns);
      dp.detach(l.a.ifindex, netns);
      assert.equal(xdpId(), null);
      assert.equal(tcFilters(), 0);
      assert.throws(() => dp.attach(l.a.ifindex, '/var/run/netns/does-not-exist'), { code: 'NETNS_FAILED' });
    } finally {
      hosts.destroy();
    }
  });

  it('drains a ring through a small buffer without losing or repeating a record, and wakes onBatch by itself', async () => {
    const dp = programmedEdge(`${INSTANCE}/ring`);
    opened.push(dp);
    const prog = dp.obj.program('edge_egress');
    // A test run repeats on the frame it already rewrote, so one record per run: run 10,000 times.
    const frame = udpFrame('10.164.0.5', '10.165.0.7', 2000);
    for (let i = 0; i < 10000; i++) prog.testRun(frame);
    const reader = new RingReader(dp.events, { bufferBytes: 64 * 1024, onBatch: () => undefined });
    const seen: bigint[] = [];
    let batches = 0;
    for (;;) {
      const { records, bytes } = reader.drain();
      if (records === 0) break;
      batches++;
      seen.push(...decodeBatch(reader.buffer, bytes).map((r) => r.tsNs));
    }
    assert.equal(seen.length, 10000);
    assert.ok(batches >= 10000 / Math.floor((64 * 1024) / 420), `${batches} batches`);
    assert.ok(seen.every((ts, i) => i === 0 || ts >= seen[i - 1]), 'in order');
    assert.equal(new Set(seen).size, seen.length, 'no record twice');

    let delivered = 0;
    const live = new RingReader(dp.events, {
      bufferBytes: 1 << 20,
      pollIntervalMs: 20,
      onBatch: (buf, records, bytes) => {
        assert.equal(decodeBatch(buf, bytes).length, records);
        delivered += records;
      },
    });
    live.start();
    for (let i = 0; i < 500; i++) prog.testRun(udpFrame('10.164.0.5', '10.165.0.7', 2001));
    const deadline = Date.now() + 3000;
    while (delivered < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    live.stop();
    live.stop();
    assert.equal(delivered, 500);
  });
});
