// The demo's processes: `cillion` subcommands in the root namespace (BPF is loaded and pinned
// from there) and traffic peers inside pod namespaces. Each runs in its own process group,
// so Ctrl-C reaches only the demo, which stops them in order; each writes a log file in the
// run directory; each carries a marker in its environment, by which a later run finds and
// ends the processes of a demo that died without cleaning up.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Environment variable every demo process carries; its value is the run directory. */
export const MARKER = 'CILLION_DEMO_RUN';

export interface ProcessContext {
  runDir: string;
  logDir: string;
  cwd: string;
  /** Called once a process is started, to record it. */
  onStart(p: DemoProcess): void;
}

export class DemoProcess {
  private exited: Promise<number | null>;
  exitCode: number | null = null;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve((this.exitCode = code ?? (signal ? 128 : null)))));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private static start(ctx: ProcessContext, name: string, cmd: string, args: string[], stdio: 'log' | 'inherit', stdin: 'ignore' | 'pipe'): DemoProcess {
    const logFile = join(ctx.logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const out: StdioOptions = stdio === 'log' ? [stdin, fd, fd] : [stdin, 'inherit', fd];
    const child = spawn(cmd, args, { cwd: ctx.cwd, detached: true, stdio: out, env: { ...process.env, [MARKER]: ctx.runDir } });
    closeSync(fd);
    child.on('error', () => undefined);
    const p = new DemoProcess(name, child, logFile);
    ctx.onStart(p);
    return p;
  }

  /** A `cillion` subcommand, run the way this process runs (compiled, or TypeScript through tsx). */
  static cillion(ctx: ProcessContext, name: string, args: string[], output: 'log' | 'inherit' = 'log', nodeFlags: string[] = []): DemoProcess {
    return DemoProcess.start(ctx, name, process.execPath, [...nodeFlags, ...process.execArgv, process.argv[1], ...args], output, 'ignore');
  }

  /**
   * A Node script inside network namespace `ns`. Its standard input is a pipe from the demo,
   * so it can end itself when the demo is gone.
   */
  static nodeInNetns(ctx: ProcessContext, name: string, ns: string, script: string, args: string[]): DemoProcess {
    return DemoProcess.start(ctx, name, 'ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, script, ...args], 'log', 'pipe');
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Resolves once the log matches `re`; rejects when the process exits first or time runs out. */
  waitFor(re: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const tick = (): void => {
        if (re.test(this.log())) resolve();
        else if (!this.running) reject(new Error(`${this.name} exited (${this.exitCode}) before it was ready; its log ${this.logFile} ends:\n${tail(this.log())}`));
        else if (Date.now() > deadline) reject(new Error(`${this.name} was not ready after ${timeoutMs / 1000} s; its log ${this.logFile} ends:\n${tail(this.log())}`));
        else setTimeout(tick, 100);
      };
      tick();
    });
  }

  /** SIGTERM to its group, SIGKILL after `graceMs`; resolves when it is gone. */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    signalGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

function tail(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // Already gone.
    }
  }
}

/** Processes whose environment carries the marker of `runDir`, other than this one. */
export function markedProcesses(runDir: string): number[] {
  const needle = `${MARKER}=${runDir}\0`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (`${readFileSync(join('/proc', entry, 'environ'), 'latin1')}\0`.includes(needle)) out.push(Number(entry));
    } catch {
      // It exited while we looked, or is not ours to read.
    }
  }
  return out;
}

/** Running, not a zombie its parent has yet to reap. */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/** Ends every process in `pids`: SIGTERM, then SIGKILL for those still there after `graceMs`. */
export async function endProcesses(pids: readonly number[], graceMs: number): Promise<void> {
  for (const pid of pids) signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(alive)) signalGroup(pid, 'SIGKILL');
  const killDeadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 50));
}
