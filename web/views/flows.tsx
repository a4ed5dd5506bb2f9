// The live flow table, newest first: only the rows in view are in the DOM (fixed row
// height), redrawn at most once per frame. Following keeps the top (newest) in view;
// scrolling down, or the pointer over the rows, keeps the rows in view where they are. Pause
// freezes what is shown while arriving flows wait (bounded, then counted as dropped).
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Flow } from '../../proto/gen/flow/flow';
import type { FlowDeck } from '../state/flow_deck';
import { pathVerdict } from '../state/verdicts';
import { useFrameTick } from '../ticks';
import { FlowDetail } from './flow_detail';
import { endpointText, flowTime, pathKind, pathText, portsText, verdictText } from './path_text';

export const ROW_H = 26;
const OVERSCAN = 4;

export function FlowsView({ deck }: { deck: FlowDeck }) {
  useFrameTick(deck);
  const box = useRef<HTMLDivElement>(null);
  const [viewH, setViewH] = useState(600);
  // Where the user scrolled to, and how many flows had come by then: rows are newest first,
  // so while not following, the rows in view move down by what came since.
  const [anchor, setAnchor] = useState({ scrollTop: 0, total: 0 });
  const [follow, setFollow] = useState(true);
  // The pointer over the table holds the rows still, so the row under it is the one clicked.
  const [hover, setHover] = useState(false);
  const [selected, setSelected] = useState<Flow | null>(null);
  const size = deck.ring.size;
  const maxTop = Math.max(0, size * ROW_H - viewH);
  const top = follow && !hover ? 0 : Math.min(maxTop, anchor.scrollTop + (deck.ring.total - anchor.total) * ROW_H);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setViewH(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Where the table is scrolled to, as last set or seen: reading scrollTop after the rows
  // changed would force a layout every frame.
  const shownTop = useRef(0);
  useLayoutEffect(() => {
    const el = box.current;
    if (el && shownTop.current !== top) {
      el.scrollTop = top;
      shownTop.current = top;
    }
  });

  const onScroll = () => {
    const el = box.current;
    if (!el || Math.abs(el.scrollTop - shownTop.current) < 1) return;
    shownTop.current = el.scrollTop;
    setAnchor({ scrollTop: el.scrollTop, total: deck.ring.total });
    setFollow(el.scrollTop < ROW_H / 2 && !hover);
  };

  const onEnter = () => {
    if (follow) setAnchor({ scrollTop: top, total: deck.ring.total });
    setHover(true);
  };

  // Rows are keyed by their slot, not their flow: at a high rate every row shows a new flow
  // each frame, and updating a row's text is cheaper than replacing the row.
  const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
  const last = Math.min(size, Math.ceil((top + viewH) / ROW_H) + OVERSCAN);
  const rows = [];
  for (let d = first; d < last; d++) {
    const f = deck.ring.at(size - 1 - d) as Flow;
    const fv = pathVerdict(f);
    rows.push(
      <div
        key={d}
        data-testid="flow-row"
        data-uuid={f.uuid}
        class={`row${selected?.uuid === f.uuid ? ' selected' : ''}`}
        style={{ top: `${d * ROW_H}px` }}
        onClick={() => setSelected(f)}
      >
        <span class="c-time mono" title={`${flowTime(f)} UTC`}>{flowTime(f, true)}</span>
        <span class="c-node">{f.nodeName}</span>
        <span class="c-ep">{endpointText(f, 'source', deck.localCluster)}</span>
        <span class="c-ep">{endpointText(f, 'destination', deck.localCluster)}</span>
        <span class="c-l4">{portsText(f)}</span>
        <span class={`c-verdict verdict v-${verdictText(f)}`}>{verdictText(f)}</span>
        <span class={`c-fence fence-${fv}`}>{fv === 'none' ? '' : `${fv} ${f.geofence?.name ?? ''}`}</span>
        <span data-testid="flow-kind" class={`c-kind kind-${pathKind(f)}`}>{pathKind(f)}</span>
        <span class="c-path mono">{pathText(f)}</span>
      </div>,
    );
  }

  return (
    <section data-testid="view-flows" class="view flows-view">
      <div class="table-bar">
        <span>
          <span data-testid="flow-count">{size}</span> flows held{deck.ring.total > size ? ` (of ${deck.ring.total} received)` : ''}
        </span>
        <button data-testid="pause" onClick={() => (deck.paused ? deck.resume() : deck.pause())}>
          {deck.paused ? 'Resume' : 'Pause'}
        </button>
        {deck.paused && (
          <span class="pending">
            <span data-testid="pending-count">{deck.pending}</span> waiting, <span data-testid="pending-dropped">{deck.pendingDropped}</span> dropped
          </span>
        )}
        <label class="follow">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> follow
        </label>
      </div>
      <div class="table-wrap">
        <div class="thead">
          <span class="c-time">time (UTC)</span>
          <span class="c-node">node</span>
          <span class="c-ep">source</span>
          <span class="c-ep">destination</span>
          <span class="c-l4">L4</span>
          <span class="c-verdict">verdict</span>
          <span class="c-fence">geofence</span>
          <span class="c-kind">kind</span>
          <span class="c-path">path</span>
        </div>
        <div data-testid="flow-table" class="flow-table" ref={box} onScroll={onScroll} onMouseEnter={onEnter} onMouseLeave={() => setHover(false)}>
          <div class="rows" style={{ height: `${size * ROW_H}px` }}>{rows}</div>
        </div>
      </div>
      {selected && <FlowDetail flow={selected} localCluster={deck.localCluster} onClose={() => setSelected(null)} />}
    </section>
  );
}
