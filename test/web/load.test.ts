// The web UI at 10,000 flows/s: a sender process streams the demo's flows to a real relay
// (its own process: mutual TLS, the demo's fences, path checks) for 30 s while Chromium
// follows them live on the flow table, the world map and the service map in turn, and the
// page itself measures its frames, long tasks, the flows that reached it and how long a
// click on Pause takes. On two cores
// shared by the relay, the sender, playwright and Chromium. Figures are printed; the bounds
// are argued where they are declared.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { until } from '../until';
import { launchChromium, openPage, screenshot } from './browser';
import type { SenderConfig, SenderMessage } from './load_sender';
import { domSize, percentile, PROBE_SCRIPT, readProbe, type ProbeReadings } from './page_probe';
import { byTestId, numberIn, streamState, untilLive } from './page_wait';
import type { RelayProcessMessage } from './relay_process';

const RATE = 10_000;
const SECONDS = 30;
/** When into the run the pause is clicked, and how long it is held. */
const PAUSE_AT_MS = 12_000;
const PAUSE_HOLD_MS = 3_000;

/**
 * Bounds. A frame gap of 250 ms at the 95th percentile still reads as a live, if choppy,
 * page (four updates a second); a long task over 1 s is a freeze a user notices as one.
 * Pause within 500 ms is an answer to the click, not a wait. The table is virtualised: the
 * rows in the DOM are what fits its viewport, 200 at most at any rate. The sender must
 * have offered at least 95% of the asked rate, and the relay taken it, or the page was not
 * under the load this test names.
 */
const MAX_P95_FRAME_GAP_MS = 250;
const MAX_LONG_TASK_MS = 1000;
const MAX_PAUSE_MS = 500;
const MAX_ROWS = 200;
const MIN_SENT_SHARE = 0.95;
/**
 * The page stays near live: when the sender stops, the newest flow in the page is under 3 s
 * old. The relay queues at most 4,096 flows for a page (UiLimits.followQueue), half a second
 * at this rate; what the page cannot read is dropped for it and counted in the header.
 */
const MAX_BEHIND_AT_END_MS = 3000;

/** Idle and total jiffies of the whole machine (/proc/stat), to tell how busy it was. */
function cpuTimes(): { idle: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
}

/** CPU seconds used so far by this process's Chromium descendants (/proc; those running now). */
function chromiumCpuSeconds(): number {
  const procs = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // comm may hold spaces: the fields after it start at the last ')'.
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return [{ pid: Number(pid), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) }];
      } catch {
        return [];
      }
    });
  const mine = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!mine.has(p.pid) && mine.has(p.ppid) && p.comm.startsWith('chrom')) (mine.add(p.pid), (grew = true));
  }
  return procs.filter((p) => p.pid !== process.pid && mine.has(p.pid)).reduce((n, p) => n + p.ticks, 0) / 100;
}

/** A forked TypeScript process and the messages it sends, each kind awaited once. */
function forkTs<M extends { kind: string }>(file: string, env: Record<string, string> = {}): { child: ChildProcess; next(kind: M['kind'], ms: number): Promise<M> } {
  const child = fork(join(__dirname, file), [], { execArgv: ['--require', 'tsx/cjs'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const got: M[] = [];
  child.on('message', (m: M) => got.push(m));
  const next = async (kind: M['kind'], ms: number): Promise<M> => {
    await until(`${file} to say ${kind}`, () => {
      const failed = got.find((m) => m.kind === 'failed');
      if (failed) throw new Error(`${file}: ${JSON.stringify(failed)}`);
      if (child.exitCode !== null && !got.some((m) => m.kind === kind)) throw new Error(`${file} exited ${child.exitCode}`);
      return got.some((m) => m.kind === kind);
    }, ms, 50);
    return got.find((m) => m.kind === kind) as M;
  };
  return { child, next };
}

describe('web UI under load', function () {
  this.timeout(90_000);
  let browser: Browser | undefined;
  const children: ChildProcess[] = [];

  after(async () => {
    await browser?.close();
    for (const c of children) if (c.exitCode === null) c.kill();
  });

  it(`follows ${RATE} flows/s for ${SECONDS} s live, stays responsive and pauses at once`, async () => {
    const relay = forkTs<RelayProcessMessage>('relay_process.ts');
    children.push(relay.child);
    browser = await launchChromium();
    const demo = await relay.next('ready', 30_000);
    if (demo.kind !== 'ready') return;
    const p = await openPage(browser, demo.url, demo.attester);
    const page = p.page;
    await page.addInitScript(PROBE_SCRIPT);
    await page.goto(`${demo.url}/#/flows?since=1m`);
    await untilLive(page);

    const cfg: SenderConfig = { address: demo.address, ca: demo.ca, nodes: demo.collectors, flowsPerSecond: RATE, seconds: SECONDS };
    const sender = forkTs<SenderMessage>('load_sender.ts', { CILLION_WEB_SENDER: JSON.stringify(cfg) });
    children.push(sender.child);
    await sender.next('ready', 30_000);
    const startMs = Date.now();
    const machine0 = cpuTimes();
    const self0 = process.cpuUsage();
    const chromium0 = chromiumCpuSeconds();
    const lines0 = (await readProbe(page, true)).lines;

    // Every half second: the DOM's size, and the lines that reached the page by then.
    let maxRows = 0;
    let maxElements = 0;
    let maxBehindMs = 0;
    const arrivals: Array<{ atMs: number; lines: number; behindMs: number; missed: number }> = [];
    const sampleUntil = async (ms: number): Promise<void> => {
      do {
        const d = await domSize(page);
        arrivals.push({ atMs: Date.now() - startMs, lines: d.lines - lines0, behindMs: d.behindMs, missed: d.missed });
        if (page.url().includes('#/flows')) maxRows = Math.max(maxRows, d.rows);
        maxElements = Math.max(maxElements, d.elements);
        maxBehindMs = Math.max(maxBehindMs, d.behindMs);
        await new Promise((r) => setTimeout(r, 500));
      } while (Date.now() - startMs < ms);
    };
    /** Each phase's frame gaps and long tasks, by the view it showed. */
    const phases: Array<{ view: string } & ProbeReadings> = [];
    const endPhase = async (view: string): Promise<void> => {
      phases.push({ view, ...(await readProbe(page, true)) });
    };

    // The table, with a pause held on the way; then the world map and the service map, which
    // aggregate the same stream; then the table again.
    await sampleUntil(PAUSE_AT_MS);
    const pauseButton = page.locator(byTestId('pause'));
    const clickedAt = Date.now();
    await pauseButton.click();
    await until('the stream paused', async () => (await streamState(page)) === 'paused', 5000, 20);
    const pauseSeenMs = Date.now() - clickedAt;
    const held = await numberIn(page, byTestId('flow-count'));
    const pendingFirst = await numberIn(page, byTestId('pending-count'));
    await sampleUntil(PAUSE_AT_MS + PAUSE_HOLD_MS);
    const heldAfter = await numberIn(page, byTestId('flow-count'));
    const pendingLast = await numberIn(page, byTestId('pending-count'));
    await screenshot(page, 'load-paused');
    await pauseButton.click();
    await until('the stream live again', async () => (await streamState(page)) === 'live', 5000, 20);
    await sampleUntil(PAUSE_AT_MS + PAUSE_HOLD_MS + 1000);
    await endPhase('flows');
    for (const [view, root, untilMs] of [['world', 'view-world-map', 22_000], ['map', 'view-service-map', 29_000]] as const) {
      await page.locator(byTestId(`nav-${view}`)).click();
      await page.locator(byTestId(root)).waitFor({ timeout: 5000 });
      await sampleUntil(untilMs);
      await screenshot(page, `load-${view}`);
      await endPhase(view);
    }
    await page.locator(byTestId('nav-flows')).click();
    await sampleUntil(SECONDS * 1000 + 1000);
    const done = await sender.next('done', 20_000);
    await sampleUntil(0);
    await endPhase('flows');

    const windowMs = Date.now() - startMs;
    const machine1 = cpuTimes();
    const self = process.cpuUsage(self0);
    const chromium = chromiumCpuSeconds() - chromium0;
    const r = await readProbe(page);
    await screenshot(page, 'load-live');
    const errorsWhileLive = [...p.errors];
    const stateAtEnd = await streamState(page);
    relay.child.send('close');
    const closed = await relay.next('closed', 10_000);
    if (done.kind !== 'done' || closed.kind !== 'closed') return;

    // Flows/s that reached the page while the sender sent: up to the first sample after its last tick.
    const atEnd = arrivals.find((a) => a.atMs >= done.lastMs - startMs) ?? arrivals[arrivals.length - 1];
    const toggles = phases.flatMap((ph) => ph.toggles);
    const pauseClick = toggles.find((t) => t.want === 'paused');
    const resumeClick = toggles.find((t) => t.want === 'live');
    const gapsOf = (view: string): number[] => phases.filter((ph) => ph.view === view).flatMap((ph) => ph.gaps);
    const p95 = (view: string): number => Math.round(percentile(gapsOf(view), 95));
    const longTasks = phases.flatMap((ph) => ph.longTasks);
    const allGaps = phases.flatMap((ph) => ph.gaps);
    const cores = (cpuSeconds: number): number => +(cpuSeconds / (windowMs / 1000)).toFixed(2);
    const figures = {
      sentFlowsPerSecond: Math.round(done.sent / ((done.lastMs - done.firstMs) / 1000)),
      sent: done.sent,
      acked: done.acked,
      senderMaxUnacked: done.maxUnacked,
      senderTicksSkipped: done.ticksSkipped,
      pageFlowsPerSecond: Math.round(atEnd.lines / (atEnd.atMs / 1000)),
      pageLines: r.lines - lines0,
      lostReportedToPage: r.lost,
      missedShownInPage: arrivals[arrivals.length - 1].missed,
      missedShownFirstAtMs: arrivals.find((a) => a.missed > 0)?.atMs ?? -1,
      pageBehindAtEndMs: atEnd.behindMs,
      lostForThePageAtRelay: closed.followerLost,
      pageBehindMaxMs: maxBehindMs,
      pageMiBPerSecond: +(r.bytes / (windowMs / 1000) / 2 ** 20).toFixed(1),
      frames: allGaps.length,
      frameGapP50Ms: Math.round(percentile(allGaps, 50)),
      frameGapP95Ms: { flows: p95('flows'), world: p95('world'), map: p95('map') },
      frameGapMaxMs: Math.round(Math.max(...allGaps)),
      longTasks: longTasks.length,
      longTaskMaxMs: Math.round(Math.max(0, ...longTasks)),
      longTaskTotalMs: Math.round(longTasks.reduce((a, b) => a + b, 0)),
      pauseInPageMs: pauseClick ? Math.round(pauseClick.ms) : NaN,
      resumeInPageMs: resumeClick ? Math.round(resumeClick.ms) : NaN,
      pauseSeenByTestMs: pauseSeenMs,
      pendingWhilePaused: `${pendingFirst} -> ${pendingLast}`,
      maxTableRowsInDom: maxRows,
      maxDomElements: maxElements,
      relayCores: cores(closed.cpuSeconds),
      senderCores: cores(done.cpuSeconds),
      chromiumCores: cores(chromium),
      playwrightCores: cores((self.user + self.system) / 1e6),
      machineIdlePercent: Math.round((100 * (machine1.idle - machine0.idle)) / (machine1.total - machine0.total)),
      loadAverage1m: +loadavg()[0].toFixed(1),
    };
    console.log(`      web UI load figures: ${JSON.stringify(figures)}`);

    assert.equal(done.acked, done.sent, 'the relay acknowledged every flow sent');
    assert.ok(done.sent >= RATE * SECONDS * MIN_SENT_SHARE, `the relay took ${figures.sentFlowsPerSecond} flows/s (at least ${MIN_SENT_SHARE * RATE})`);
    for (const [view, ms] of Object.entries(figures.frameGapP95Ms)) assert.ok(ms < MAX_P95_FRAME_GAP_MS, `p95 frame gap on ${view}: ${ms} ms < ${MAX_P95_FRAME_GAP_MS} ms`);
    assert.ok(figures.longTaskMaxMs < MAX_LONG_TASK_MS, `longest task ${figures.longTaskMaxMs} ms < ${MAX_LONG_TASK_MS} ms`);
    assert.ok(pauseClick && pauseClick.ms < MAX_PAUSE_MS, `pause took effect ${figures.pauseInPageMs} ms after the click (< ${MAX_PAUSE_MS} ms)`);
    assert.equal(heldAfter, held, 'the table held still while paused');
    assert.ok(pendingLast > pendingFirst, `flows kept arriving and were counted while paused (${figures.pendingWhilePaused})`);
    assert.ok(maxRows > 0 && maxRows <= MAX_ROWS, `table rows in the DOM stayed bounded (${maxRows})`);
    assert.ok(figures.pageFlowsPerSecond > 0, 'flows reached the page');
    assert.ok(atEnd.behindMs >= 0 && atEnd.behindMs < MAX_BEHIND_AT_END_MS, `the newest flow in the page was ${atEnd.behindMs} ms behind the clock when the sender stopped (< ${MAX_BEHIND_AT_END_MS} ms)`);
    if (closed.followerLost > 0) {
      const missed = figures.missedShownInPage;
      assert.ok(missed > 0 && missed <= closed.followerLost, `the page shows the ${closed.followerLost} flows the relay dropped for it (${missed} shown)`);
    }
    assert.equal(stateAtEnd, 'live', 'the page still followed at the end');
    assert.deepEqual(errorsWhileLive, [], 'the page logged no error');
  });
});
