// The service map: workloads by identity labels, boxed by namespace and cluster, and the
// flows between them as edges with their count, coloured by verdict; cross-cluster edges are
// dashed. Redrawn at most every MAP_INTERVAL_MS. Clicking an edge lists its flows.
import { useMemo, useState } from 'preact/hooks';
import type { Flow } from '../../proto/gen/flow/flow';
import type { FlowDeck } from '../state/flow_deck';
import { flowOnEdge, type GraphEdge } from '../state/service_graph';
import { layoutServices, type PlacedWorkload } from '../state/service_layout';
import { useSlowTick } from '../ticks';
import { flowTime, pathText, portsText, verdictText } from './path_text';

const EDGE_FLOWS_SHOWN = 200;

function edgeClass(e: GraphEdge): string {
  const dropped = (e.verdicts.DROPPED ?? 0) + (e.verdicts.ERROR ?? 0);
  return dropped === 0 ? 'edge ok' : dropped === e.flows ? 'edge dropped' : 'edge mixed';
}

const pillW = (n: number) => 12 + 7 * String(n).length;

/** An edge's line and the middle of its box, where its count sits: the count is what takes
 * the click (lines cross each other), and a click at the middle of the edge's box lands on
 * it. Straight lines; A→B and B→A run side by side, offset to their left. */
function edgeGeometry(a: PlacedWorkload, b: PlacedWorkload): { d: string; mx: number; my: number } {
  if (a.key === b.key) {
    const x = a.x + a.w;
    const y = a.y + a.h / 2;
    return { d: `M${x},${y - 8} C${x + 44},${y - 30} ${x + 44},${y + 30} ${x},${y + 8}`, mx: x + 16.5, my: y };
  }
  const ax = a.x + a.w / 2;
  const ay = a.y + a.h / 2;
  const bx = b.x + b.w / 2;
  const by = b.y + b.h / 2;
  const dx = bx - ax;
  const dy = by - ay;
  const len = Math.hypot(dx, dy) || 1;
  const ox = (dy / len) * 9;
  const oy = (-dx / len) * 9;
  // Clip to the boxes' borders: the largest step along the line that stays inside a box.
  const clip = (w: number, h: number) => Math.min(Math.abs(dx) > 0 ? w / 2 / Math.abs(dx) : Infinity, Math.abs(dy) > 0 ? h / 2 / Math.abs(dy) : Infinity);
  const ta = clip(a.w, a.h);
  const tb = clip(b.w, b.h);
  const sx = ax + dx * ta + ox;
  const sy = ay + dy * ta + oy;
  const ex = bx - dx * tb + ox;
  const ey = by - dy * tb + oy;
  return { d: `M${sx.toFixed(1)},${sy.toFixed(1)} L${ex.toFixed(1)},${ey.toFixed(1)}`, mx: (sx + ex) / 2, my: (sy + ey) / 2 };
}

export function ServiceMapView({ deck }: { deck: FlowDeck }) {
  const tick = useSlowTick(deck);
  const [selected, setSelected] = useState<{ src: string; dst: string } | null>(null);
  const graph = deck.graph;
  const layout = useMemo(() => layoutServices(graph.workloads.values()), [tick, deck]);
  const edges = [...graph.edges.values()];
  const pad = 20;

  return (
    <section data-testid="view-service-map" class="view service-view">
      <div class="map-scroll">
        {graph.workloads.size === 0 ? (
          <p class="empty">No flows yet.</p>
        ) : (
          <svg data-testid="service-map" class="service-map" width={layout.width + pad * 2 + 60} height={layout.height + pad * 2} viewBox={`${-pad} ${-pad} ${layout.width + pad * 2 + 60} ${layout.height + pad * 2}`}>
            <defs>
              <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" orient="auto-start-reverse">
                <path d="M0,0 L10,5 L0,10 z" class="arrow" />
              </marker>
            </defs>
            {layout.clusters.map((c) => (
              <g key={c.cluster} data-testid="cluster" data-cluster={c.cluster}>
                <rect class="cluster-box" x={c.x} y={c.y} width={c.w} height={c.h} rx={10} />
                <text class="cluster-title" x={c.x + 14} y={c.y + 20}>{c.cluster}</text>
              </g>
            ))}
            {layout.namespaces.map((n) => (
              <g key={`${n.cluster}/${n.namespace}`} data-testid="namespace" data-cluster={n.cluster} data-namespace={n.namespace}>
                <rect class="ns-box" x={n.x} y={n.y} width={n.w} height={n.h} rx={6} />
                <text class="ns-title" x={n.x + 10} y={n.y + 15}>{n.namespace}</text>
              </g>
            ))}
            {[...layout.workloads.values()].map((w) => (
              <g key={w.key} data-testid="workload" data-cluster={w.cluster} data-namespace={w.namespace} data-workload={w.workload}>
                <rect class="workload-box" x={w.x} y={w.y} width={w.w} height={w.h} rx={4} />
                <text class="workload-name" x={w.x + 8} y={w.y + 14}>{w.workload}</text>
                <text class="workload-count" x={w.x + 8} y={w.y + 28}>{graph.workloads.get(w.key)?.flows ?? 0} flows</text>
              </g>
            ))}
            {edges.map((e) => {
              const a = layout.workloads.get(e.src);
              const b = layout.workloads.get(e.dst);
              if (!a || !b) return null;
              const g = edgeGeometry(a, b);
              const on = selected?.src === e.src && selected?.dst === e.dst;
              return (
                <g
                  key={`${e.src}>${e.dst}`}
                  data-testid="edge"
                  data-src={e.src}
                  data-dst={e.dst}
                  data-cross-cluster={String(e.crossCluster)}
                  data-flows={e.flows}
                  data-geofence={e.geofence}
                  class={`${edgeClass(e)}${e.crossCluster ? ' cross' : ''} fence-${e.geofence}${on ? ' selected' : ''}`}
                  tabIndex={0}
                  role="button"
                  aria-label={`${e.src} to ${e.dst}: ${e.flows} flows`}
                  onClick={() => setSelected({ src: e.src, dst: e.dst })}
                  onKeyDown={(k) => k.key === 'Enter' && setSelected({ src: e.src, dst: e.dst })}
                >
                  <title>{`${e.src} → ${e.dst}: ${e.flows} flows (${Object.entries(e.verdicts).map(([v, n]) => `${v} ${n}`).join(', ')}); geofence: ${e.geofence === 'none' ? 'not checked' : e.geofence}`}</title>
                  <path class="edge-line" d={g.d} marker-end="url(#arrow)" />
                  <g class="edge-pill" transform={`translate(${g.mx.toFixed(1)},${g.my.toFixed(1)})`}>
                    <rect x={-pillW(e.flows) / 2} y={-8} width={pillW(e.flows)} height={16} rx={8} />
                    <text y={4} text-anchor="middle">{e.flows}</text>
                  </g>
                </g>
              );
            })}
          </svg>
        )}
        <ul class="map-legend">
          <li><span class="swatch sw-ok" />all forwarded</li>
          <li><span class="swatch sw-mixed" />some dropped</li>
          <li><span class="swatch sw-dropped" />all dropped</li>
          <li><span class="swatch sw-cross" />dashed: across clusters</li>
          <li><span class="swatch sw-fence-violation" />red ring on the count: a geofence violation among its flows</li>
          <li><span class="swatch sw-fence-unverified" />amber ring: unverified paths, no violation</li>
          <li class="muted">click a count for its flows</li>
        </ul>
        {graph.overflow > 0 && <p class="note">{graph.overflow} flows not drawn: more workloads or edges than the map holds.</p>}
      </div>
      {selected && <EdgeDetail deck={deck} src={selected.src} dst={selected.dst} onClose={() => setSelected(null)} tick={tick} />}
    </section>
  );
}

function EdgeDetail({ deck, src, dst, onClose, tick }: { deck: FlowDeck; src: string; dst: string; onClose(): void; tick: number }) {
  const flows = useMemo(() => {
    const out: Flow[] = [];
    for (let i = deck.ring.size - 1; i >= 0 && out.length < EDGE_FLOWS_SHOWN; i--) {
      const f = deck.ring.at(i) as Flow;
      if (flowOnEdge(f, src, dst, deck.localCluster)) out.push(f);
    }
    return out;
  }, [deck, src, dst, tick]);
  const edge = deck.graph.edges.get(`${src}>${dst}`);
  return (
    <aside data-testid="edge-detail" class="side-panel">
      <div class="panel-head">
        <strong>{src} → {dst}</strong>
        <button class="close" onClick={onClose} aria-label="close">×</button>
      </div>
      {edge && <p class="muted">{edge.flows} flows{edge.crossCluster ? ', cross-cluster' : ''}: {Object.entries(edge.verdicts).map(([v, n]) => `${v} ${n}`).join(', ')}</p>}
      <p class="muted">The newest {flows.length} the page holds:</p>
      <ul class="edge-flows">
        {flows.map((f) => (
          <li key={f.uuid} data-testid="edge-flow" data-uuid={f.uuid}>
            <span class="mono">{flowTime(f)}</span> <span class={`verdict v-${verdictText(f)}`}>{verdictText(f)}</span> {portsText(f)}
            <div class="path mono">{pathText(f)}</div>
          </li>
        ))}
      </ul>
    </aside>
  );
}
