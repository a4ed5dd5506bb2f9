// Desired state from a directory of YAML files (*.yaml, *.yml; several documents per file),
// in the same schema as the CRDs. Re-read when the directory changes (fs.watch, debounced)
// and on a timer, because fs.watch misses events on some file systems and editors that
// replace files. A file that does not parse keeps its last good resources: a typo must not
// unprogram a workload. The YAML files are the user's, so status goes to a separate folder
// (default <dir>/.status), one file per resource, with the generations that survive restarts.
import { createHash } from 'node:crypto';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { isRecord } from '../../resources/fields';
import { API_VERSION, PLURALS } from '../../resources/meta';
import { formatProblems, type Problem } from '../../resources/problems';
import { claimedKey, keyString, validateResource, type ResourceKey } from '../../resources/resource';
import type { ResourceStatus } from '../../resources/status';
import type { ResourceEvent, ResourceSource, SourceEntry } from '../../resources/source';

export interface DirectorySourceOptions {
  /** Where status files and the generation ledger go; default `<dir>/.status`. */
  statusDir?: string;
  /** Quiet time after a change event before re-reading; default 100 ms. */
  debounceMs?: number;
  /** Interval of the fallback full re-read; default 5 s; 0 disables it. */
  rescanMs?: number;
}

interface Known {
  entry: SourceEntry;
  hash: string;
  file: string;
}

interface Ledger {
  [key: string]: { generation: number; hash: string };
}

const YAML_FILE = /^[^.].*\.ya?ml$/;
const LEDGER = 'generations.json';

/** JSON with sorted keys, so the hash depends on content, not on key order in the file. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isRecord(v)) {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => v[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function contentHash(obj: Record<string, unknown>): string {
  // Status is the operator's output; a status block in the user's file is not desired state.
  const { status: _status, ...rest } = obj;
  return createHash('sha256').update(canonical(rest)).digest('hex');
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

export class DirectorySource implements ResourceSource {
  readonly statusDir: string;
  private readonly debounceMs: number;
  private readonly rescanMs: number;
  private readonly known = new Map<string, Known>();
  private readonly listeners = new Set<(e: ResourceEvent) => void>();
  /** The last problems reported per origin, so a file that stays broken is reported once. */
  private readonly reported = new Map<string, string>();
  private ledger: Ledger = {};
  private version = 0;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescanAgain = false;
  private closed = false;
  private readonly ready: Promise<void>;

  constructor(
    readonly dir: string,
    opts: DirectorySourceOptions = {},
  ) {
    this.statusDir = opts.statusDir ?? join(dir, '.status');
    this.debounceMs = opts.debounceMs ?? 100;
    this.rescanMs = opts.rescanMs ?? 5000;
    this.ready = this.start();
  }

  private async start(): Promise<void> {
    await mkdir(this.statusDir, { recursive: true });
    try {
      this.ledger = JSON.parse(await readFile(join(this.statusDir, LEDGER), 'utf8')) as Ledger;
    } catch {
      // No ledger yet (first run) or an unreadable one: generations start again at 1.
      this.ledger = {};
    }
    await this.rescan();
    if (this.rescanMs > 0) {
      this.timer = setInterval(() => void this.rescan(), this.rescanMs);
      this.timer.unref();
    }
  }

  private ensureWatcher(): void {
    if (this.watcher || this.closed) return;
    try {
      this.watcher = fsWatch(this.dir, (_event, filename) => {
        if (filename === null || YAML_FILE.test(filename.toString())) this.scheduleRescan();
      });
      this.watcher.on('error', () => {
        // The directory went away or the watch broke; the timer keeps rescanning and re-arms it.
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined;
    }
  }

  private scheduleRescan(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.rescan();
    }, this.debounceMs);
  }

  /** Re-reads the directory now and emits what changed; concurrent calls coalesce. */
  async rescan(): Promise<void> {
    if (this.closed) return;
    if (this.scanning) {
      this.rescanAgain = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescanAgain = false;
        await this.scanOnce();
      } while (this.rescanAgain && !this.closed);
    })();
    try {
      await this.scanning;
    } finally {
      this.scanning = undefined;
    }
  }

  private report(origin: string, problems: Problem[]): void {
    const text = formatProblems(problems);
    if (this.reported.get(origin) === text) return;
    this.reported.set(origin, text);
    this.emit({ type: 'problem', origin, problems });
  }

  private async scanOnce(): Promise<void> {
    let files: string[];
    try {
      files = (await readdir(this.dir)).filter((f) => YAML_FILE.test(f)).sort();
    } catch (e) {
      this.report(this.dir, [{ path: '', message: `cannot read directory: ${(e as Error).message}` }]);
      return;
    }
    this.reported.delete(this.dir);
    this.ensureWatcher();

    const next = new Map<string, { obj: Record<string, unknown>; hash: string; file: string; origin: string }>();
    const kept = new Set<string>();
    const seenOrigins = new Set<string>([this.dir]);
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(join(this.dir, file), 'utf8');
      } catch {
        continue; // Removed between readdir and read; the next scan sees it gone.
      }
      seenOrigins.add(file);
      const docs = parseAllDocuments(text);
      const broken = (Array.isArray(docs) ? docs : [docs]).flatMap((d) => d.errors.map((e) => ({ path: '', message: e.message })));
      if (broken.length > 0 || !Array.isArray(docs)) {
        this.report(file, broken.length ? broken : [{ path: '', message: 'not a YAML stream' }]);
        for (const [k, v] of this.known) if (v.file === file) kept.add(k);
        continue;
      }
      this.reported.delete(file);
      docs.forEach((doc, i) => {
        const origin = `${file}#${i}`;
        seenOrigins.add(origin);
        const obj: unknown = doc.toJS();
        if (obj === null || obj === undefined) return; // an empty document between separators
        const key = claimedKey(obj);
        if (!key || !isRecord(obj)) {
          const r = validateResource(obj);
          const problems = r.ok ? [{ path: 'metadata.name', message: 'is required' }] : r.problems;
          this.report(origin, problems);
          return;
        }
        const ks = keyString(key);
        const first = next.get(ks);
        if (first) {
          this.report(origin, [{ path: 'metadata.name', message: `${ks} is already defined in ${first.origin}; this copy is ignored` }]);
          return;
        }
        this.reported.delete(origin);
        next.set(ks, { obj, hash: contentHash(obj), file, origin });
      });
    }
    for (const origin of [...this.reported.keys()]) if (!seenOrigins.has(origin)) this.reported.delete(origin);

    let ledgerChanged = false;
    for (const [ks, n] of next) {
      const prev = this.known.get(ks);
      if (prev && prev.hash === n.hash && prev.entry.origin === n.origin) continue;
      const stored = this.ledger[ks];
      const generation = prev
        ? prev.hash === n.hash
          ? prev.entry.generation
          : prev.entry.generation + 1
        : stored
          ? stored.hash === n.hash
            ? stored.generation
            : stored.generation + 1
          : 1;
      const resourceVersion = String(++this.version);
      const meta = isRecord(n.obj.metadata) ? n.obj.metadata : {};
      const result = validateResource({ ...n.obj, metadata: { ...meta, generation, resourceVersion } });
      const entry: SourceEntry = { key: claimedKey(n.obj)!, generation, resourceVersion, origin: n.origin, result };
      this.known.set(ks, { entry, hash: n.hash, file: n.file });
      if (!stored || stored.generation !== generation || stored.hash !== n.hash) {
        this.ledger[ks] = { generation, hash: n.hash };
        ledgerChanged = true;
      }
      // A move to another file or document with the same content is an update with the same generation.
      this.emit({ type: prev ? 'update' : 'add', entry });
    }
    for (const [ks, k] of [...this.known]) {
      if (next.has(ks) || kept.has(ks)) continue;
      this.known.delete(ks);
      delete this.ledger[ks];
      ledgerChanged = true;
      this.emit({ type: 'delete', key: k.entry.key, last: k.entry });
    }
    if (ledgerChanged) await writeAtomic(join(this.statusDir, LEDGER), JSON.stringify(this.ledger, null, 1));
  }

  private emit(e: ResourceEvent): void {
    for (const l of this.listeners) l(e);
  }

  async list(): Promise<SourceEntry[]> {
    await this.ready;
    return [...this.known.values()].map((k) => k.entry);
  }

  watch(listener: (event: ResourceEvent) => void): () => void {
    let active = true;
    void this.ready.then(() => {
      if (!active) return;
      for (const k of this.known.values()) listener({ type: 'add', entry: k.entry });
      this.listeners.add(listener);
    });
    return () => {
      active = false;
      this.listeners.delete(listener);
    };
  }

  statusFile(key: ResourceKey): string {
    return key.namespace ? join(this.statusDir, PLURALS[key.kind], key.namespace, `${key.name}.yaml`) : join(this.statusDir, PLURALS[key.kind], `${key.name}.yaml`);
  }

  async writeStatus(key: ResourceKey, status: ResourceStatus): Promise<void> {
    await this.ready;
    const file = this.statusFile(key);
    await mkdir(join(file, '..'), { recursive: true });
    const doc = {
      apiVersion: API_VERSION,
      kind: key.kind,
      metadata: { name: key.name, ...(key.namespace ? { namespace: key.namespace } : {}) },
      status,
    };
    await writeAtomic(file, `# Written by the Cillion operator; edits are overwritten.\n${stringify(doc)}`);
  }

  /** The status last written for a resource, if any. */
  async readStatus(key: ResourceKey): Promise<ResourceStatus | undefined> {
    try {
      const doc: unknown = parseAllDocuments(await readFile(this.statusFile(key), 'utf8'));
      const first = Array.isArray(doc) ? (doc[0]?.toJS() as unknown) : undefined;
      return isRecord(first) && isRecord(first.status) ? (first.status as unknown as ResourceStatus) : undefined;
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    this.watcher?.close();
    this.listeners.clear();
    await this.ready.catch(() => undefined);
    await this.scanning;
  }
}
