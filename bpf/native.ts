// The typed face of the native addon (bpf/addon): BPF objects, programs, maps and ring
// readers. Nothing else in Cillion touches the kernel's BPF interfaces.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repo_root';

export type BpfErrorCode =
  | 'OPEN_FAILED'
  | 'LOAD_FAILED'
  | 'CLOSED'
  | 'NO_SUCH_PROGRAM'
  | 'NO_SUCH_MAP'
  | 'ATTACH_FAILED'
  | 'DETACH_FAILED'
  | 'MAP_OP_FAILED'
  | 'BAD_SIZE'
  | 'NETNS_FAILED'
  | 'TEST_RUN_FAILED'
  | 'RING_FAILED'
  | 'NO_ADDON';

export class BpfError extends Error {
  override readonly name = 'BpfError';
  constructor(
    readonly code: BpfErrorCode,
    message: string,
    readonly errno?: number,
  ) {
    super(message);
  }
}

interface NativeProgram {
  name: string;
  fd: number;
  type: number;
}
interface NativeMapInfo {
  name: string;
  fd: number;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}
interface NativeObject {
  programs(): NativeProgram[];
  maps(): NativeMapInfo[];
  close(): void;
}
interface NativeRing {
  drain(): { records: number; bytes: number };
  start(intervalMs: number): void;
  stop(): void;
}
interface Addon {
  BpfObject: new (file: string, opts: { pinRoot?: string; consts?: Record<string, Buffer> }) => NativeObject;
  RingReader: new (fd: number, size: number, buffer: Buffer, onBatch: (b: Buffer, n: number, bytes: number) => void) => NativeRing;
  numPossibleCpus(): number;
  attachXdp(fd: number, ifindex: number, opts: object): void;
  /** Removes the XDP program in `mode`, or without a mode whichever is attached; nothing attached is fine. */
  detachXdp(ifindex: number, opts: object): void;
  attachTc(fd: number, ifindex: number, dir: string, opts: object): void;
  detachTc(ifindex: number, dir: string, opts: object): void;
  testRun(fd: number, data: Buffer, opts: object): { retval: number; data: Buffer; durationNs: number };
  runSyscall(fd: number, ctx: Buffer): { retval: number; ctx: Buffer };
  mapLookup(fd: number, key: Buffer, valueSize: number): Buffer | null;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags: number): void;
  mapDelete(fd: number, key: Buffer): boolean;
  mapDump(fd: number, keySize: number, valueSize: number, maxEntries: number, batch: boolean): Array<[Buffer, Buffer]>;
  mapUpdateBatch(fd: number, keys: Buffer, values: Buffer, count: number): void;
  mapDeleteBatch(fd: number, keys: Buffer, keySize: number, count: number): number;
  mapOpenPinned(path: string): NativeMapInfo;
  closeFd(fd: number): void;
}

let loaded: Addon | null = null;

function addon(): Addon {
  if (loaded) return loaded;
  const file = join(repoRoot(), 'bpf', 'addon', 'build', 'Release', 'cillion_bpf.node');
  if (!existsSync(file)) throw new BpfError('NO_ADDON', `${file} is missing: run make in a checkout, or reinstall the package (its install step builds it)`);
  loaded = require(file) as Addon;
  return loaded;
}

/** Calls into the addon, turning its errors (which carry code and errno) into BpfError. */
function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof BpfError) throw err;
    const e = err as { code?: string; errno?: number; message?: string };
    throw new BpfError((e.code as BpfErrorCode) ?? 'MAP_OP_FAILED', e.message ?? String(err), e.errno);
  }
}

// enum bpf_map_type values this face treats specially.
const MAP_HASH = 1;
const MAP_ARRAY = 2;
const MAP_PERCPU_HASH = 5;
const MAP_PERCPU_ARRAY = 6;
const MAP_LRU_HASH = 9;
const MAP_LRU_PERCPU_HASH = 10;
const MAP_RINGBUF = 27;
const PER_CPU = new Set([MAP_PERCPU_HASH, MAP_PERCPU_ARRAY, MAP_LRU_PERCPU_HASH]);
const BATCHABLE = new Set([MAP_HASH, MAP_ARRAY, MAP_PERCPU_HASH, MAP_PERCPU_ARRAY, MAP_LRU_HASH, MAP_LRU_PERCPU_HASH]);
// Arrays cannot delete at all; of the batchable types only the hashes delete in batches.
const DELETE_BATCHABLE = new Set([MAP_HASH, MAP_PERCPU_HASH, MAP_LRU_HASH, MAP_LRU_PERCPU_HASH]);

/**
 * tc priority of a filter attached without one (edge_egress). Lower numbers run first; 1 is
 * left free for srv6_encap, which must see a pod's packet before edge_egress does.
 */
export const TC_DEFAULT_PRIORITY = 2;

/** XDP test runs whose frames really leave through the redirect target. */
export const BPF_F_TEST_XDP_LIVE_FRAMES = 2;

export function possibleCpus(): number {
  return call(() => addon().numPossibleCpus());
}

/** Mounts bpffs on /sys/fs/bpf unless it is there, then creates `dir` below it. */
export function ensureBpffs(dir?: string): void {
  const mounted = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => {
      const [, mountpoint, fstype] = l.split(' ');
      return mountpoint === '/sys/fs/bpf' && fstype === 'bpf';
    });
  if (!mounted) execFileSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
  if (dir) mkdirSync(dir, { recursive: true });
}

export interface NetnsOption {
  /** A network namespace path such as /var/run/netns/NAME, entered only for the call. */
  netns?: string;
}

export class BpfProgram {
  constructor(
    readonly name: string,
    readonly fd: number,
    readonly type: number,
  ) {}

  /** XDP on ifindex, replacing what is attached there in either mode; 'generic' uses SKB mode. */
  attachXdp(ifindex: number, opts: NetnsOption & { mode?: 'native' | 'generic' } = {}): void {
    call(() => addon().attachXdp(this.fd, ifindex, opts));
  }

  /** Removes the XDP program in `mode`, or without a mode whichever is attached; nothing attached is fine. */
  detachXdp(ifindex: number, opts: NetnsOption & { mode?: 'native' | 'generic' } = {}): void {
    call(() => addon().detachXdp(ifindex, opts));
  }

  /**
   * A tc filter on the clsact hook (created if missing), replacing one with the same handle
   * and priority (default handle 1, priority TC_DEFAULT_PRIORITY).
   */
  attachTc(ifindex: number, direction: 'ingress' | 'egress', opts: NetnsOption & { handle?: number; priority?: number } = {}): void {
    call(() => addon().attachTc(this.fd, ifindex, direction, { ...opts, priority: opts.priority ?? TC_DEFAULT_PRIORITY }));
  }

  detachTc(ifindex: number, direction: 'ingress' | 'egress', opts: NetnsOption & { handle?: number; priority?: number } = {}): void {
    call(() => addon().detachTc(ifindex, direction, { ...opts, priority: opts.priority ?? TC_DEFAULT_PRIORITY }));
  }

  /** BPF_PROG_TEST_RUN: retval, output frame and mean nanoseconds per run. */
  testRun(
    data: Buffer,
    opts: NetnsOption & { repeat?: number; ctx?: Buffer; dataOutSize?: number; flags?: number; batchSize?: number } = {},
  ): { retval: number; data: Buffer; durationNs: number } {
    return call(() => addon().testRun(this.fd, data, opts));
  }

  /** Runs a BPF_PROG_TYPE_SYSCALL program once on `ctx`: its return value and ctx as it left it. */
  runSyscall(ctx: Buffer): { retval: number; ctx: Buffer } {
    return call(() => addon().runSyscall(this.fd, ctx));
  }
}

export class BpfMap {
  readonly perCpu: boolean;
  readonly possibleCpus: number;
  /** Bytes of one value as user space sees it: per-CPU maps give one 8-aligned slot per possible CPU. */
  readonly userValueSize: number;

  constructor(
    readonly name: string,
    readonly fd: number,
    readonly type: number,
    readonly keySize: number,
    readonly valueSize: number,
    readonly maxEntries: number,
    private readonly owned: boolean,
  ) {
    this.perCpu = PER_CPU.has(type);
    this.possibleCpus = possibleCpus();
    this.userValueSize = this.perCpu ? ((valueSize + 7) & ~7) * this.possibleCpus : valueSize;
  }

  /** A pinned map by path, for example one a running agent pinned. */
  static openPinned(path: string): BpfMap {
    const i = call(() => addon().mapOpenPinned(path));
    return new BpfMap(i.name, i.fd, i.type, i.keySize, i.valueSize, i.maxEntries, true);
  }

  private checkKey(key: Buffer): void {
    if (key.length !== this.keySize) throw new BpfError('BAD_SIZE', `${this.name}: key of ${key.length} bytes, map wants ${this.keySize}`);
  }

  private checkValue(value: Buffer): void {
    if (value.length !== this.userValueSize) {
      throw new BpfError('BAD_SIZE', `${this.name}: value of ${value.length} bytes, map wants ${this.userValueSize}`);
    }
  }

  lookup(key: Buffer): Buffer | null {
    this.checkKey(key);
    return call(() => addon().mapLookup(this.fd, key, this.userValueSize));
  }

  update(key: Buffer, value: Buffer, flags = 0): void {
    this.checkKey(key);
    this.checkValue(value);
    call(() => addon().mapUpdate(this.fd, key, value, flags));
  }

  /**
   * Deletes `key`; returns whether it existed. Array slots cannot be deleted: there an
   * all-zero value means "absent" (what the programs check), so delete writes zeros.
   */
  delete(key: Buffer): boolean {
    this.checkKey(key);
    if (this.type === MAP_ARRAY) {
      const old = this.lookup(key);
      if (old === null || old.every((b) => b === 0)) return false;
      this.update(key, Buffer.alloc(this.userValueSize));
      return true;
    }
    return call(() => addon().mapDelete(this.fd, key));
  }

  /** Every entry; for arrays only the slots that are not all zero. */
  dump(): Array<[Buffer, Buffer]> {
    if (this.type === MAP_RINGBUF) throw new BpfError('MAP_OP_FAILED', `${this.name} is a ring buffer`);
    const all = call(() => addon().mapDump(this.fd, this.keySize, this.userValueSize, this.maxEntries, BATCHABLE.has(this.type)));
    return this.type === MAP_ARRAY ? all.filter(([, v]) => v.some((b) => b !== 0)) : all;
  }

  updateBatch(keys: Buffer[], values: Buffer[]): void {
    if (keys.length !== values.length) throw new BpfError('BAD_SIZE', `${keys.length} keys but ${values.length} values`);
    keys.forEach((k) => this.checkKey(k));
    values.forEach((v) => this.checkValue(v));
    if (!BATCHABLE.has(this.type)) {
      keys.forEach((k, i) => this.update(k, values[i]));
      return;
    }
    if (keys.length === 0) return;
    call(() => addon().mapUpdateBatch(this.fd, Buffer.concat(keys), Buffer.concat(values), keys.length));
  }

  /** Deletes each key (in kernel batches for hash maps); returns how many existed. */
  deleteBatch(keys: Buffer[]): number {
    keys.forEach((k) => this.checkKey(k));
    if (!DELETE_BATCHABLE.has(this.type)) return keys.reduce((n, k) => n + (this.delete(k) ? 1 : 0), 0);
    if (keys.length === 0) return 0;
    return call(() => addon().mapDeleteBatch(this.fd, Buffer.concat(keys), this.keySize, keys.length));
  }

  close(): void {
    if (this.owned) addon().closeFd(this.fd);
  }
}

export interface OpenOptions {
  /**
   * Directory for maps declared with LIBBPF_PIN_BY_NAME (created, bpffs mounted if needed);
   * maps already pinned there are reused. Without it libbpf pins such maps in /sys/fs/bpf.
   */
  pinRoot?: string;
  /** `const volatile` variables set before load: little-endian bytes of the variable's size. */
  consts?: Record<string, Buffer>;
}

export class BpfObject {
  private readonly programsByName: Map<string, BpfProgram>;
  private readonly mapsByName: Map<string, BpfMap>;

  private constructor(private readonly native: NativeObject) {
    this.programsByName = new Map(native.programs().map((p) => [p.name, new BpfProgram(p.name, p.fd, p.type)]));
    this.mapsByName = new Map(
      native.maps().map((m) => [m.name, new BpfMap(m.name, m.fd, m.type, m.keySize, m.valueSize, m.maxEntries, false)]),
    );
  }

  /** Opens and loads `file` (CO-RE against the running kernel's BTF). */
  static open(file: string, opts: OpenOptions = {}): BpfObject {
    for (const [name, value] of Object.entries(opts.consts ?? {})) {
      if (!Buffer.isBuffer(value)) throw new BpfError('BAD_SIZE', `const ${name} must be a Buffer of the variable's bytes`);
    }
    if (opts.pinRoot) ensureBpffs(opts.pinRoot);
    return new BpfObject(call(() => new (addon().BpfObject)(file, opts)));
  }

  get programs(): string[] {
    return [...this.programsByName.keys()];
  }

  get maps(): string[] {
    return [...this.mapsByName.keys()];
  }

  program(name: string): BpfProgram {
    const p = this.programsByName.get(name);
    if (!p) throw new BpfError('NO_SUCH_PROGRAM', `no program ${name} (have ${this.programs.join(', ')})`);
    return p;
  }

  map(name: string): BpfMap {
    const m = this.mapsByName.get(name);
    if (!m) throw new BpfError('NO_SUCH_MAP', `no map ${name} (have ${this.maps.join(', ')})`);
    return m;
  }

  /** Unloads the object; attachments made through its programs stay until detached. */
  close(): void {
    this.native.close();
  }
}

export interface RingReaderOptions {
  bufferBytes: number;
  onBatch: (buf: Buffer, records: number, bytes: number) => void;
  /** Drain at least this often (default 100 ms), since producers may not wake us. */
  pollIntervalMs?: number;
}

/**
 * Drains a ring buffer map into one reused Buffer. Each record is packed as a
 * little-endian u32 length, the record, zero padding to 8 bytes; a record that does not
 * fit stays in the ring for the next batch.
 */
export class RingReader {
  readonly buffer: Buffer;
  private readonly native: NativeRing;
  private readonly interval: number;

  constructor(map: BpfMap, opts: RingReaderOptions) {
    if (map.type !== MAP_RINGBUF) throw new BpfError('RING_FAILED', `${map.name} is not a ring buffer`);
    this.buffer = Buffer.alloc(opts.bufferBytes);
    this.interval = opts.pollIntervalMs ?? 100;
    this.native = call(() => new (addon().RingReader)(map.fd, map.maxEntries, this.buffer, opts.onBatch));
  }

  drain(): { records: number; bytes: number } {
    return this.native.drain();
  }

  start(): void {
    call(() => this.native.start(this.interval));
  }

  stop(): void {
    this.native.stop();
  }
}
