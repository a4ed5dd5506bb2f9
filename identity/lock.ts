// One allocator per cluster in the embedded mode: a lock file next to the state file, taken by
// hard-linking a complete file into place (atomic, fails if one exists). A lock whose process
// is gone (same host, pid not alive) is broken; one held by a live process, or by another
// host, is not. The holder checks the lock still holds its token before every write, so even
// if a race while breaking a stale lock displaced it, it stops allocating instead of writing
// numbers another process also hands out.
import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { IdentityError } from './state_file';

export interface LockHolder {
  pid: number;
  host: string;
  token: string;
  since: string;
}

export interface LockWaitOptions {
  /** How often a waiting process tries again; default 1 s. */
  pollMs?: number;
  /** Told once which process holds the lock while this one waits. */
  onWait?: (holder: LockHolder) => void;
  signal?: AbortSignal;
}

const describe = (h: LockHolder): string => `pid ${h.pid} on ${h.host} since ${h.since}`;

export class AllocatorLock {
  private released = false;

  private constructor(
    readonly file: string,
    readonly holder: LockHolder,
  ) {}

  /** The lock file of an allocator's state file. */
  static fileFor(stateFile: string): string {
    return `${stateFile}.lock`;
  }

  /** Takes the lock, or tells who holds it. */
  static tryAcquire(file: string): AllocatorLock | LockHolder {
    const me: LockHolder = { pid: process.pid, host: hostname(), token: randomUUID(), since: new Date().toISOString() };
    const tmp = `${file}.${me.pid}.${me.token}`;
    writeFileSync(tmp, JSON.stringify(me));
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          linkSync(tmp, file);
          return new AllocatorLock(file, me);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const held = readHolder(file);
        if (!held || attempt > 0 || held.host !== me.host || alive(held.pid)) return held ?? { pid: 0, host: '?', token: '', since: '?' };
        if (!breakStale(file, held)) return held;
      }
    } finally {
      unlinkSync(tmp);
    }
  }

  /** Takes the lock, waiting while another live process holds it. */
  static async acquire(file: string, opts: LockWaitOptions = {}): Promise<AllocatorLock> {
    let told = false;
    for (;;) {
      const got = AllocatorLock.tryAcquire(file);
      if (got instanceof AllocatorLock) return got;
      if (!told) opts.onWait?.(got);
      told = true;
      await new Promise<void>((resolve, reject) => {
        if (opts.signal?.aborted) return reject(new IdentityError('LOCKED', `${file} is held by ${describe(got)}`));
        const t = setTimeout(resolve, opts.pollMs ?? 1000);
        opts.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new IdentityError('LOCKED', `${file} is held by ${describe(got)}`));
        }, { once: true });
      });
    }
  }

  /** Throws LOCK_LOST unless the lock file still holds this process's token (the allocator's guard). */
  check(): void {
    const now = this.released ? null : readHolder(this.file);
    if (now?.token !== this.holder.token) {
      throw new IdentityError('LOCK_LOST', `${this.file} is ${now ? `held by ${describe(now)}` : 'gone'}: this process no longer allocates identities`);
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    if (readHolder(this.file)?.token === this.holder.token) unlinkSync(this.file);
  }
}

function readHolder(file: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    return typeof h?.pid === 'number' && typeof h.token === 'string' ? h : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Moves a dead process's lock aside. If what was moved is not that lock (another process broke
 * it first and took the lock meanwhile), it goes back; true when the way is clear.
 */
function breakStale(file: string, stale: LockHolder): boolean {
  const aside = `${file}.stale.${process.pid}.${randomUUID()}`;
  try {
    renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw e;
  }
  const moved = readHolder(aside);
  if (moved?.token === stale.token) {
    unlinkSync(aside);
    return true;
  }
  try {
    linkSync(aside, file);
  } catch {
    // A third process took the lock meanwhile; the displaced holder finds out at its next check().
  }
  unlinkSync(aside);
  return false;
}
