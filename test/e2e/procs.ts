// `cillion` as child processes for the e2e tests: long-running ones whose log is kept for
// waits and failure messages, one-shot commands, and waiting for a condition with a deadline.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
const CLI = ['--require', 'tsx/cjs', join(ROOT, 'cli', 'main.ts')];

/**
 * A port free now, for a process that must know its peers' ports before any of them listens
 * (relay replicas naming each other). Anything else listens on port 0 and reads its address
 * back (Proc.address), which no other process can take in between.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export class Proc {
  readonly child: ChildProcess;
  log = '';

  constructor(readonly name: string, args: string[]) {
    this.child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
  }

  waitFor(re: RegExp, timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const tick = (): void => {
        if (re.test(this.log)) resolve();
        else if (this.child.exitCode !== null) reject(new Error(`${this.name} exited ${this.child.exitCode} before ${re}:\n${this.log}`));
        else if (Date.now() > deadline) reject(new Error(`${this.name}: no ${re} in ${timeoutMs} ms:\n${this.log}`));
        else setTimeout(tick, 100);
      };
      tick();
    });
  }

  /**
   * The address a process started with port 0 listens on, from the line that says so
   * (`re` captures it): the relay's "serving ... on ADDR", or "metrics on http://ADDR/metrics".
   */
  async address(re: RegExp, timeoutMs = 30000): Promise<string> {
    await this.waitFor(re, timeoutMs);
    return (re.exec(this.log) as RegExpExecArray)[1];
  }

  /** SIGTERM, then the exit code (SIGKILL after `graceMs`). */
  stop(graceMs = 10000): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      const kill = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      this.child.once('exit', (code) => {
        clearTimeout(kill);
        resolve(code);
      });
      this.child.kill('SIGTERM');
    });
  }
}

export function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 256 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The lines of `Proc.address` for a relay and for any process's metrics endpoint. */
export const SERVING = /serving Observer and FlowExport on (\S+)/;
export const METRICS_ON = /metrics on http:\/\/(\S+)\/metrics/;

export async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await get();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 500));
    last = await get();
  }
  return last;
}

/** Runs the cluster's identity allocator once (`cillion operator --once`), as agents only read what it wrote to `state`. */
export async function allocateIdentities(resources: string, workloads: string, state: string): Promise<void> {
  const r = await cli(['operator', '--resources', resources, '--workloads', workloads, '--state', state, '--once']);
  if (r.code !== 0) throw new Error(`cillion operator --once: ${r.stderr}`);
}
