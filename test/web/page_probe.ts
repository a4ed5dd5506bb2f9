// What the load test measures inside the page, installed before the app's own script runs
// (a string, so no bundler helper leaks into it): the gaps between animation frames, long
// tasks (PerformanceObserver 'longtask'), the NDJSON lines the GetFlows answers bring (a
// pass-through count of newlines on the response body the app reads), and how long a
// click on the pause button takes until the stream state says it took effect.
import type { Page } from 'playwright-core';

export interface ProbeReadings {
  /** Since the last reset: milliseconds between consecutive animation frames. */
  gaps: number[];
  /** Durations of long tasks, ms. */
  longTasks: number[];
  /** Since the page loaded: GetFlows lines received (flows, plus the rare node status or lost events line). */
  lines: number;
  /** Flows the relay said it could not deliver (lost_events lines' num_events_lost). */
  lost: number;
  /** The time of the newest line received, ms since the epoch (0: none yet). */
  newestMs: number;
  bytes: number;
  /** Per click on pause/resume: the state wanted and ms from the click event to it. */
  toggles: Array<{ want: string; ms: number }>;
}

export const PROBE_SCRIPT = `(() => {
  const probe = { gaps: [], longTasks: [], lines: 0, lost: 0, newestMs: 0, bytes: 0, toggles: [], last: 0 };
  const text = new TextDecoder();
  window.__cillionProbe = probe;
  const frame = (t) => {
    if (probe.last) probe.gaps.push(t - probe.last);
    probe.last = t;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) probe.longTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
  const fetch0 = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const res = await fetch0(input, init);
    const url = typeof input === 'string' ? input : input.url;
    if (!url.includes('/GetFlows') || !res.body) return res;
    const count = new TransformStream({
      transform(chunk, out) {
        for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) probe.lines++;
        // Chunks are searched, not parsed: for a lost-events line (rare) and the last line's time.
        const t = text.decode(chunk, { stream: true });
        // The newest flow's own time (a lost-events line's time is when the loss began, not a flow's).
        const flowAt = t.lastIndexOf('{"flow":{');
        const at = flowAt >= 0 ? t.indexOf('"time":"', flowAt) : -1;
        if (at >= 0) {
          const ms = Date.parse(t.slice(at + 8, t.indexOf('"', at + 8)));
          if (ms > probe.newestMs) probe.newestMs = ms;
        }
        for (let at = t.indexOf('"numEventsLost":'); at >= 0; at = t.indexOf('"numEventsLost":', at + 1)) {
          // The backslash doubled: this script is a template literal, which would drop a single one.
          probe.lost += Number(/^"numEventsLost":"?(\\d+)/.exec(t.slice(at, at + 40))?.[1] ?? 0);
        }
        probe.bytes += chunk.length;
        out.enqueue(chunk);
      },
    });
    return new Response(res.body.pipeThrough(count), { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  document.addEventListener('click', (ev) => {
    const button = ev.target instanceof Element ? ev.target.closest('[data-testid="pause"]') : null;
    if (!button) return;
    const want = button.textContent.trim() === 'Pause' ? 'paused' : 'live';
    const start = ev.timeStamp;
    const took = () => {
      const s = document.querySelector('[data-testid="stream-state"]');
      if (!s || s.getAttribute('data-state') !== want) return false;
      probe.toggles.push({ want, ms: performance.now() - start });
      return true;
    };
    const mo = new MutationObserver(() => { if (took()) mo.disconnect(); });
    mo.observe(document.documentElement, { subtree: true, attributes: true, childList: true, characterData: true });
  }, true);
})();`;

/** The readings so far; `reset` starts the timings (gaps, long tasks, toggles) again, for the next phase the test measures. */
export function readProbe(page: Page, reset = false): Promise<ProbeReadings> {
  return page.evaluate(`(() => {
    const p = window.__cillionProbe;
    const r = { gaps: p.gaps, longTasks: p.longTasks, lines: p.lines, lost: p.lost, newestMs: p.newestMs, bytes: p.bytes, toggles: p.toggles };
    if (${reset}) { p.gaps = []; p.longTasks = []; p.toggles = []; }
    return r;
  })()`);
}

/**
 * The DOM's size now (table rows, every element), the GetFlows lines received so far and
 * how far behind the clock the newest of them is, ms.
 */
export function domSize(page: Page): Promise<{ rows: number; elements: number; lines: number; behindMs: number; missed: number }> {
  return page.evaluate(`({
    missed: Number(document.querySelector('[data-testid="stream-missed"]')?.getAttribute('data-missed') ?? 0),
    rows: document.querySelectorAll('[data-testid="flow-row"]').length,
    elements: document.getElementsByTagName('*').length,
    lines: window.__cillionProbe.lines,
    behindMs: window.__cillionProbe.newestMs ? Date.now() - window.__cillionProbe.newestMs : -1,
  })`);
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
