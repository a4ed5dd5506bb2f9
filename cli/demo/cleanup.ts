// What a demo leaves to clean up, and the cleanup: its processes (found by their
// environment marker), namespaces (by prefix), veth pairs caught in the root namespace,
// pinned BPF objects and the run directory. `cillion demo down` and every `cillion demo`
// before it starts run the same sweep, so it also works after a crash.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PIN_BASE } from '../../bpf/datapath';
import { namespacesWithPrefix, NetnsHosts } from './netns';
import { TMP_LINK_TAG } from './network';
import { endProcesses, markedProcesses } from './processes';

export const STATE_FILE = 'state.json';

export interface DemoState {
  /** The `cillion demo` process. */
  pid: number;
  prefix: string;
  relay: string;
  startedAt: string;
  processes: Array<{ name: string; pid: number }>;
}

export function readState(runDir: string): DemoState | null {
  try {
    return JSON.parse(readFileSync(join(runDir, STATE_FILE), 'utf8')) as DemoState;
  } catch {
    return null;
  }
}

export function writeState(runDir: string, state: DemoState): void {
  writeFileSync(join(runDir, STATE_FILE), `${JSON.stringify(state, null, 1)}\n`);
}

/** The pin directory of every BPF object the demo loads. */
export const pinRoot = (prefix: string): string => join(PIN_BASE, prefix);

function isDemo(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').includes('demo');
  } catch {
    return false;
  }
}

export interface TeardownResult {
  processes: number;
  namespaces: number;
}

/**
 * Removes what a demo created. A demo still running is asked to stop first (it cleans up
 * after itself); whatever is left then goes. The run directory goes too unless `keepRunDir`,
 * which keeps the logs of a demo that ends normally.
 */
export async function teardown(opts: { runDir: string; prefix: string; keepRunDir?: boolean; log?: (line: string) => void }): Promise<TeardownResult> {
  const log = opts.log ?? (() => undefined);
  const state = readState(opts.runDir);
  if (state && state.pid !== process.pid && isDemo(state.pid)) {
    log(`asking the running demo (pid ${state.pid}) to stop`);
    await endProcesses([state.pid], 60000);
  }
  const pids = markedProcesses(opts.runDir);
  if (pids.length > 0) log(`ending ${pids.length} demo process(es)`);
  await endProcesses(pids, 5000);
  const namespaces = namespacesWithPrefix(opts.prefix);
  if (namespaces.length > 0) log(`removing ${namespaces.length} network namespaces`);
  NetnsHosts.sweep(opts.prefix);
  NetnsHosts.sweepTmpLinks(TMP_LINK_TAG);
  rmSync(pinRoot(opts.prefix), { recursive: true, force: true });
  if (opts.keepRunDir) rmSync(join(opts.runDir, STATE_FILE), { force: true });
  else rmSync(opts.runDir, { recursive: true, force: true });
  return { processes: pids.length, namespaces: namespaces.length };
}
