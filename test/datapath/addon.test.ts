// The native addon against the real kernel, on a fixture object of its own: loading with
// consts, verifier errors, map access and batches, pinning, idempotent attach and detach
// inside a network namespace, test runs, and ring draining that neither loses nor
// repeats a record.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpfError, BpfMap, BpfObject, RingReader, possibleCpus, TC_DEFAULT_PRIORITY } from '../../bpf/native';
import { requireDatapath } from './harness/require';
import { Topology } from './harness/topology';

const PIN_ROOT = `/sys/fs/bpf/cillion-test-addon-${process.pid}`;
// From the kernel's uapi: enum xdp_action, TC_ACT_*, BPF_NOEXIST, BPF_RB_NO_WAKEUP, enum bpf_map_type.
const XDP_DROP = 1;
const XDP_PASS = 2;
const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const BPF_NOEXIST = 1;
const BPF_RB_NO_WAKEUP = 1;
const EEXIST = 17;
const MAP_HASH = 1;
const MAP_PERCPU_ARRAY = 6;
const MAP_RINGBUF = 27;
// The fixture's ring record: u64 seq, u32 frame length, u32 magic.
const EVENT_BYTES = 16;
const EVENT_MAGIC = 0xc111f00d;

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

/** CPUs the kernel may ever bring up, from its own list (e.g. "0-3,8"). */
function kernelPossibleCpus(): number {
  return readFileSync('/sys/devices/system/cpu/possible', 'utf8')
    .trim()
    .split(',')
    .reduce((n, range) => {
      const [lo, hi = lo] = range.split('-').map(Number);
      return n + hi - lo + 1;
    }, 0);
}

/** An Ethernet frame of `len` bytes carrying IPv4 (contents beyond the type do not matter here). */
function frame(len: number): Buffer {
  const f = Buffer.alloc(len);
  f.writeUInt16BE(0x0800, 12);
  return f;
}

/** Unpacks a drained batch: [u32 length][record][padding to 8] per record; returns the sequence numbers. */
function seqsOf(buf: Buffer, bytes: number): bigint[] {
  const out: bigint[] = [];
  let off = 0;
  while (off < bytes) {
    const len = buf.readUInt32LE(off);
    assert.equal(len, EVENT_BYTES);
    assert.equal(buf.readUInt32LE(off + 4 + 12), EVENT_MAGIC);
    out.push(buf.readBigUInt64LE(off + 4));
    off += 4 + ((len + 7) & ~7);
  }
  assert.equal(off, bytes);
  return out;
}

describe('bpf/native: the addon in the real kernel', function () {
  requireDatapath(this);
  this.timeout(60_000);
  let dir: string;
  let fixture: string;
  let unverifiable: string;
  const opened: Array<{ close(): void }> = [];

  function open(sub: string, consts?: Record<string, Buffer>): BpfObject {
    const obj = BpfObject.open(fixture, { pinRoot: join(PIN_ROOT, sub), consts });
    opened.push(obj);
    return obj;
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ciladdon-'));
    rmSync(PIN_ROOT, { recursive: true, force: true });
    const vmlinux = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      maxBuffer: 1 << 30,
    });
    writeFileSync(join(dir, 'vmlinux.h'), vmlinux);
    const compile = (name: string): string => {
      const out = join(dir, `${name}.o`);
      execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-I', dir, '-c', join(__dirname, 'fixtures', `${name}.c`), '-o', out]);
      return out;
    };
    fixture = compile('addon_fixture.bpf');
    unverifiable = compile('unverifiable.bpf');
  });
  afterEach(() => {
    for (const o of opened.splice(0).reverse()) o.close();
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    rmSync(PIN_ROOT, { recursive: true, force: true });
  });

  it('loads the object and describes its programs and maps as the kernel made them', () => {
    const obj = open('describe');
    assert.deepEqual([...obj.programs].sort(), ['fx_tc', 'fx_xdp']);
    assert.deepEqual([...obj.maps].sort(), ['fx_events', 'fx_hash', 'fx_percpu']);
    const hash = obj.map('fx_hash');
    assert.deepEqual([hash.type, hash.keySize, hash.valueSize, hash.maxEntries, hash.perCpu], [MAP_HASH, 4, 8, 1024, false]);
    const percpu = obj.map('fx_percpu');
    assert.deepEqual([percpu.type, percpu.keySize, percpu.valueSize, percpu.perCpu], [MAP_PERCPU_ARRAY, 4, 4, true]);
    assert.deepEqual([obj.map('fx_events').type, obj.map('fx_events').maxEntries], [MAP_RINGBUF, 1 << 19]);
    assert.equal(possibleCpus(), kernelPossibleCpus());
    assert.equal(percpu.possibleCpus, kernelPossibleCpus());
    assert.ok(obj.program('fx_xdp').fd > 0);
    assert.throws(() => obj.program('nope'), (e: unknown) => e instanceof BpfError && e.code === 'NO_SUCH_PROGRAM');
    assert.throws(() => obj.map('nope'), (e: unknown) => e instanceof BpfError && e.code === 'NO_SUCH_MAP');
  });

  it('sets const volatile tunables before load, visible in the verdicts', () => {
    const plain = open('consts-default');
    const tuned = open('consts-tuned', { xdp_verdict: u32(XDP_DROP), tc_verdict: u32(TC_ACT_SHOT) });
    assert.equal(plain.program('fx_xdp').testRun(frame(64)).retval, XDP_PASS);
    assert.equal(plain.program('fx_tc').testRun(frame(64)).retval, TC_ACT_OK);
    assert.equal(tuned.program('fx_xdp').testRun(frame(64)).retval, XDP_DROP);
    assert.equal(tuned.program('fx_tc').testRun(frame(64)).retval, TC_ACT_SHOT);
    assert.throws(() => open('consts-bad', { no_such_const: u32(1) }), { name: 'BpfError', code: 'OPEN_FAILED' });
    assert.throws(() => open('consts-bad', { xdp_verdict: u64(1) }), { name: 'BpfError', code: 'BAD_SIZE' });
  });

  it('reports a verifier refusal as LOAD_FAILED with the verifier log, and a missing file as OPEN_FAILED', () => {
    assert.throws(
      () => BpfObject.open(unverifiable, { pinRoot: join(PIN_ROOT, 'refused') }),
      (e: unknown) => e instanceof BpfError && e.code === 'LOAD_FAILED' && /invalid access to packet/.test(e.message),
    );
    assert.throws(() => BpfObject.open(join(dir, 'missing.o')), (e: unknown) => e instanceof BpfError && e.code === 'OPEN_FAILED' && e.errno === 2);
  });

  it('runs programs on test input: XDP passes the frame through, tc counts it into the hash map', () => {
    const obj = open('testrun');
    const input = frame(60);
    input.write('cillion', 20);
    const xdp = obj.program('fx_xdp').testRun(input, { repeat: 3 });
    assert.equal(xdp.retval, XDP_PASS);
    assert.deepEqual(xdp.data, input);
    assert.ok(Number.isInteger(xdp.durationNs) && xdp.durationNs >= 0);
    for (let i = 0; i < 3; i++) obj.program('fx_tc').testRun(frame(60));
    obj.program('fx_tc').testRun(frame(70));
    const hash = obj.map('fx_hash');
    assert.deepEqual(hash.lookup(u32(60)), u64(3));
    assert.deepEqual(hash.lookup(u32(70)), u64(1));
  });

  it('reads, writes, deletes, batches and dumps, with per-CPU values padded per CPU', () => {
    const obj = open('maps');
    const hash = obj.map('fx_hash');
    assert.equal(hash.lookup(u32(1)), null);
    hash.update(u32(1), u64(11));
    assert.deepEqual(hash.lookup(u32(1)), u64(11));
    assert.throws(() => hash.update(u32(1), u64(12), BPF_NOEXIST), { code: 'MAP_OP_FAILED', errno: EEXIST });
    assert.equal(hash.delete(u32(1)), true);
    assert.equal(hash.delete(u32(1)), false);
    assert.throws(() => hash.lookup(Buffer.alloc(3)), { code: 'BAD_SIZE' });
    assert.throws(() => hash.update(u32(1), Buffer.alloc(4)), { code: 'BAD_SIZE' });

    const keys = Array.from({ length: 300 }, (_, i) => u32(1000 + i));
    hash.updateBatch(keys, keys.map((_, i) => u64(i * 7)));
    const dumped = new Map(hash.dump().map(([k, v]) => [k.readUInt32LE(), v.readBigUInt64LE()]));
    assert.equal(dumped.size, 300);
    assert.equal(dumped.get(1000 + 123), 123n * 7n);
    // Missing keys among present ones: the kernel stops its batch at each, the count must not.
    const doomed = [...keys.slice(0, 50), u32(5), ...keys.slice(50, 100), u32(6), u32(7)];
    assert.equal(hash.deleteBatch(doomed), 100);
    assert.equal(hash.dump().length, 200);
    assert.equal(hash.lookup(keys[99]), null);
    assert.deepEqual(hash.lookup(keys[100]), u64(700));

    const percpu = obj.map('fx_percpu');
    const cpus = kernelPossibleCpus();
    const slot = 8;
    assert.equal(percpu.lookup(u32(0))?.length, slot * cpus);
    obj.program('fx_xdp').testRun(frame(64), { repeat: 25 });
    const runs = percpu.lookup(u32(0))!;
    let total = 0;
    for (let c = 0; c < cpus; c++) {
      total += runs.readUInt32LE(c * slot);
      assert.equal(runs.readUInt32LE(c * slot + 4), 0, 'padding');
    }
    assert.equal(total, 25);
    const perCpuValue = Buffer.alloc(slot * cpus);
    for (let c = 0; c < cpus; c++) perCpuValue.writeUInt32LE(100 + c, c * slot);
    percpu.update(u32(3), perCpuValue);
    assert.deepEqual(percpu.lookup(u32(3)), perCpuValue);
    const all = percpu.dump();
    assert.equal(all.length, 4, 'an array has every index');
    assert.deepEqual(all.find(([k]) => k.readUInt32LE() === 3)?.[1], perCpuValue);
    assert.throws(() => obj.map('fx_events').dump(), { code: 'MAP_OP_FAILED' });
  });

  it('pins maps by name; a second object and openPinned share the entries', () => {
    const first = open('pin');
    assert.ok(existsSync(join(PIN_ROOT, 'pin', 'fx_hash')));
    assert.ok(existsSync(join(PIN_ROOT, 'pin', 'fx_events')));
    assert.ok(!existsSync(join(PIN_ROOT, 'pin', 'fx_percpu')), 'only maps that ask to be pinned are');
    first.map('fx_hash').update(u32(42), u64(4242));
    const second = open('pin');
    assert.deepEqual(second.map('fx_hash').lookup(u32(42)), u64(4242));
    const raw = BpfMap.openPinned(join(PIN_ROOT, 'pin', 'fx_hash'));
    opened.push(raw);
    assert.deepEqual([raw.name, raw.type, raw.keySize, raw.valueSize, raw.maxEntries], ['fx_hash', MAP_HASH, 4, 8, 1024]);
    assert.deepEqual(raw.dump(), [[u32(42), u64(4242)]]);
    assert.equal(raw.delete(u32(42)), true);
    assert.equal(first.map('fx_hash').lookup(u32(42)), null);
    // The per-CPU map is not pinned, so each object has its own.
    first.map('fx_percpu').update(u32(1), Buffer.alloc(first.map('fx_percpu').userValueSize, 1));
    assert.ok(second.map('fx_percpu').lookup(u32(1))!.every((b) => b === 0));
    assert.throws(() => BpfMap.openPinned(join(PIN_ROOT, 'pin', 'nothing')), { code: 'MAP_OP_FAILED', errno: 2 });
  });

  it('attaches XDP and tc in a namespace idempotently, takes over on restart, detaches twice', () => {
    const hosts = new Topology(`ciladdon${process.pid}`);
    const ownNetns = readlinkSync('/proc/thread-self/ns/net');
    try {
      const a = hosts.addHost('a');
      const b = hosts.addHost('b');
      const l = hosts.link({ ns: a, ifname: 'up0', addr: '10.251.0.1/24' }, { ns: b, ifname: 'up0', addr: '10.251.0.2/24' });
      const netns = `/var/run/netns/${a}`;
      const ifindex = l.a.ifindex;
      const xdp = (): { mode: number; id: number } | null => {
        const [link] = JSON.parse(execFileSync('ip', ['-n', a, '-j', 'link', 'show', 'dev', 'up0'], { encoding: 'utf8' }));
        return link.xdp ? { mode: link.xdp.mode, id: link.xdp.prog.id } : null;
      };
      const filters = (dir: 'ingress' | 'egress'): Array<{ pref: number; handle?: number; id?: number }> =>
        (JSON.parse(execFileSync('tc', ['-n', a, '-j', 'filter', 'show', 'dev', 'up0', dir], { encoding: 'utf8' }) || '[]') as Array<{
          pref: number;
          kind: string;
          options?: { handle?: string; prog?: { id: number } };
        }>)
          .filter((f) => f.kind === 'bpf' && f.options)
          .map((f) => ({ pref: f.pref, handle: Number(f.options!.handle), id: f.options!.prog?.id }));

      const first = open('attach');
      first.program('fx_xdp').attachXdp(ifindex, { netns });
      const attached = xdp();
      assert.equal(attached?.mode, 1, 'native (driver) mode');
      first.program('fx_xdp').attachXdp(ifindex, { netns });
      assert.deepEqual(xdp(), attached, 'the same program, attached once');
      first.program('fx_tc').attachTc(ifindex, 'ingress', { netns });
      first.program('fx_tc').attachTc(ifindex, 'ingress', { netns });
      first.program('fx_tc').attachTc(ifindex, 'egress', { netns, handle: 2, priority: 5 });
      const ingress = filters('ingress');
      assert.equal(ingress.length, 1);
      assert.deepEqual([ingress[0].pref, ingress[0].handle], [TC_DEFAULT_PRIORITY, 1]);
      assert.deepEqual(filters('egress').map((f) => [f.pref, f.handle]), [[5, 2]]);
      assert.equal(readlinkSync('/proc/thread-self/ns/net'), ownNetns, 'back in our own namespace');

      // Traffic through the hook reaches the program: pings from b arrive at a's ingress.
      hosts.exec(b, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', '10.251.0.1']);
      const seen = first.map('fx_hash').dump().reduce((n, [, v]) => n + v.readBigUInt64LE(), 0n);
      assert.ok(seen >= 2n, `${seen} packets counted at ingress`);

      // A restarted agent loads a fresh object and finds its old programs attached: it takes over.
      first.close();
      const second = open('attach');
      second.program('fx_xdp').attachXdp(ifindex, { netns, mode: 'generic' });
      const generic = xdp();
      assert.equal(generic?.mode, 2, 'generic (SKB) mode replaced the native program');
      assert.notEqual(generic?.id, attached?.id);
      second.program('fx_tc').attachTc(ifindex, 'ingress', { netns });
      const replaced = filters('ingress');
      assert.equal(replaced.length, 1);
      assert.notEqual(replaced[0].id, ingress[0].id);

      for (let i = 0; i < 2; i++) {
        second.program('fx_xdp').detachXdp(ifindex, { netns });
        second.program('fx_tc').detachTc(ifindex, 'ingress', { netns });
        second.program('fx_tc').detachTc(ifindex, 'egress', { netns, handle: 2, priority: 5 });
      }
      assert.equal(xdp(), null);
      assert.deepEqual(filters('ingress'), []);
      assert.deepEqual(filters('egress'), []);
      assert.throws(() => second.program('fx_xdp').attachXdp(ifindex, { netns: '/var/run/netns/cillion-no-such-ns' }), {
        code: 'NETNS_FAILED',
      });
      assert.equal(readlinkSync('/proc/thread-self/ns/net'), ownNetns);
    } finally {
      hosts.destroy();
    }
  });

  it('drains 30,000 records through a small buffer across the ring wrap, none lost or repeated', () => {
    const obj = open('ring');
    const bufferBytes = 4096;
    const reader = new RingReader(obj.map('fx_events'), { bufferBytes, onBatch: () => assert.fail('not started') });
    const perBatch = Math.floor(bufferBytes / (4 + EVENT_BYTES));
    const seqs: bigint[] = [];
    // 10,000 records take 240,000 of the ring's 524,288 bytes; three rounds wrap around.
    for (let round = 0; round < 3; round++) {
      obj.program('fx_xdp').testRun(frame(64), { repeat: 10_000 });
      let batches = 0;
      for (;;) {
        const { records, bytes } = reader.drain();
        if (records === 0) break;
        batches++;
        assert.ok(records <= perBatch && bytes <= bufferBytes);
        seqs.push(...seqsOf(reader.buffer, bytes));
      }
      assert.equal(batches, Math.ceil(10_000 / perBatch));
    }
    assert.equal(seqs.length, 30_000);
    assert.ok(seqs.every((s, i) => s === BigInt(i)), 'every sequence number once, in order');
  });

  it('leaves a record that fits no batch in the ring and says so, and outlives the object', () => {
    const obj = open('ring-small');
    obj.program('fx_xdp').testRun(frame(64));
    const tiny = new RingReader(obj.map('fx_events'), { bufferBytes: 16, onBatch: () => undefined });
    assert.throws(() => tiny.drain(), { code: 'RING_FAILED' });
    const enough = new RingReader(obj.map('fx_events'), { bufferBytes: 64, onBatch: () => undefined });
    // The reader keeps the ring open after its object is gone.
    opened.splice(opened.indexOf(obj), 1);
    obj.close();
    enough.start();
    enough.stop();
    const { records, bytes } = enough.drain();
    assert.equal(records, 1);
    assert.deepEqual(seqsOf(enough.buffer, bytes), [0n]);
  });

  for (const [how, consts, pollIntervalMs] of [
    ['the ring fd wakes the event loop', {}, 60_000],
    ['the timer drains records submitted without wakeup', { ring_flags: u64(BPF_RB_NO_WAKEUP) }, 20],
  ] as const) {
    it(`start() hands batches to onBatch without drain() calls: ${how}`, async () => {
      const obj = open(`ring-live-${pollIntervalMs}`, consts);
      const seqs: bigint[] = [];
      let sameBuffer = true;
      const reader = new RingReader(obj.map('fx_events'), {
        bufferBytes: 1024,
        pollIntervalMs,
        onBatch: (buf, records, bytes) => {
          sameBuffer &&= buf === reader.buffer;
          const batch = seqsOf(buf, bytes);
          assert.equal(batch.length, records);
          seqs.push(...batch);
        },
      });
      reader.start();
      reader.start();
      try {
        obj.program('fx_xdp').testRun(frame(64), { repeat: 500 });
        const deadline = Date.now() + 5000;
        while (seqs.length < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      } finally {
        reader.stop();
        reader.stop();
      }
      assert.equal(seqs.length, 500);
      assert.ok(seqs.every((s, i) => s === BigInt(i)));
      assert.ok(sameBuffer, 'one preallocated buffer');
    });
  }
});
