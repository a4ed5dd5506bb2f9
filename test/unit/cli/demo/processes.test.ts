// How the demo finds and ends its processes, crashed run or not: by the marker in their
// environment, SIGTERM first, SIGKILL for whoever ignores it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { endProcesses, markedProcesses, MARKER } from '../../../../cli/demo/processes';
import { until } from '../../../until';

function start(cmd: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

const gone = (c: ChildProcess): Promise<void> => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

describe('cli/demo/processes: finding and ending demo processes', function () {
  if (process.platform !== 'linux') return;
  const run = `/tmp/cildemo-unit-${process.pid}`;
  const started: ChildProcess[] = [];
  after(() => started.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL')));

  it('finds the processes that carry the marker of this run directory and no others', async () => {
    const ours = start('sleep', ['30'], { [MARKER]: run });
    const other = start('sleep', ['30'], { [MARKER]: `${run}-other` });
    const none = start('sleep', ['30'], {});
    started.push(ours, other, none);
    // Each carries its environment once it has executed `sleep`, however late that is.
    await until('the marked process to show', () => markedProcesses(run).length > 0);
    assert.deepEqual(markedProcesses(run), [ours.pid]);
  });

  it('ends them, with SIGKILL for a process that ignores SIGTERM', async () => {
    const polite = start('sleep', ['30'], { [MARKER]: run });
    const stubborn = start('sh', ['-c', 'trap "" TERM; sleep 30 & wait; sleep 30'], { [MARKER]: run });
    started.push(polite, stubborn);
    // The shell ignores SIGTERM once its trap is set, which it is when its first sleep runs.
    const children = (pid: number): string => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    await until('the shell to set its trap and start sleeping', () => children(stubborn.pid as number) !== '');
    await until('the marked processes to show', () => markedProcesses(run).length >= 2);
    const t0 = Date.now();
    await endProcesses([polite.pid as number, stubborn.pid as number], 500);
    await Promise.all([gone(polite), gone(stubborn)]);
    assert.equal(polite.signalCode, 'SIGTERM');
    assert.equal(stubborn.signalCode, 'SIGKILL');
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual(markedProcesses(run).filter((p) => p === polite.pid || p === stubborn.pid), []);
  });
});
