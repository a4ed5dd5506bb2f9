// Worker threads that check runs of evidence lines (line_worker.ts), so verify parses and
// hashes the Merkle leaves on every core while the reading thread hashes the file. Runs
// are handed out in turn and their results come back in the order they were asked for.
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CheckedRun, LineCheckSetup } from './line_checker';

interface Waiting {
  resolve(r: CheckedRun): void;
  reject(e: Error): void;
}

export class LineCheckerPool {
  private readonly workers: { worker: Worker; waiting: Waiting[] }[] = [];
  private next = 0;
  private failed: Error | undefined;

  constructor(setup: LineCheckSetup, size: number) {
    // Run from TypeScript source (tests, tsx), the worker registers the same loader first.
    const ts = extname(__filename) === '.ts';
    const file = join(__dirname, `line_worker${extname(__filename)}`);
    for (let i = 0; i < size; i++) {
      const worker = ts
        ? new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`, { eval: true, workerData: setup })
        : new Worker(file, { workerData: setup });
      const entry = { worker, waiting: [] as Waiting[] };
      worker.on('message', (r: CheckedRun) => entry.waiting.shift()?.resolve(r));
      const down = (e: Error): void => {
        this.failed ??= e;
        for (const w of entry.waiting.splice(0)) w.reject(e);
      };
      worker.on('error', down);
      worker.on('exit', (code) => down(new Error(`a verify worker exited (${code})`)));
      this.workers.push(entry);
    }
  }

  /** Checks the lines of `parts` put one after the other, numbered from `first`. */
  check(parts: readonly Uint8Array[], first: number): Promise<CheckedRun> {
    if (this.failed) return Promise.reject(this.failed);
    const entry = this.workers[this.next++ % this.workers.length];
    return new Promise((resolve, reject) => {
      entry.waiting.push({ resolve, reject });
      // One copy of its own, made from the parts (no joining them first), handed over rather
      // than cloned: the chunk it came from is reused.
      const own = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        own.set(p, at);
        at += p.length;
      }
      entry.worker.postMessage({ batch: own, first }, [own.buffer]);
    });
  }

  async close(): Promise<void> {
    this.failed ??= new Error('the verify workers were closed');
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
