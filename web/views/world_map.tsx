// The world map of paths: countries (those a path in view crosses shaded), the ASes flows
// crossed at their declared geo, the links between consecutive hops coloured by the worst
// geofence verdict of the flows over them, each violation's offending hop ringed, and a
// legend naming the fence, the AS and its country. SRv6 paths are drawn beside them: their
// segments' nodes as squares and the links between them dashed, in the same verdict colours,
// an offending segment's node ringed. Redrawn at most every MAP_INTERVAL_MS.
import { geoPath } from 'd3-geo';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { countryShapes } from '../geo/countries';
import { placeLabels } from '../geo/labels';
import { fittedProjection } from '../geo/projection';
import type { FlowDeck } from '../state/flow_deck';
import type { MapAs, MapLink, MapSrv6Node } from '../state/world_tally';
import { useSlowTick } from '../ticks';

const VERDICT_LEGEND: [string, string][] = [
  ['compliant', 'compliant'],
  ['unverified', 'unverified'],
  ['violation', 'violation'],
  ['none', 'no geofence'],
];

export function WorldMapView({ deck }: { deck: FlowDeck }) {
  const tick = useSlowTick(deck);
  const world = deck.world;
  const frame = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ w: 1000, h: 560 });
  useEffect(() => {
    const el = frame.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setSize({ w: Math.max(200, Math.round(el.clientWidth)), h: Math.max(150, Math.round(el.clientHeight)) }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const ases = [...world.ases.values()].sort((a, b) => (a.ia < b.ia ? -1 : 1));
  const nodes = [...world.srv6Nodes.values()].sort((a, b) => (a.node < b.node ? -1 : 1));
  // The projection (and the costly country outlines) change only when the set of ASes and
  // SRv6 nodes or the drawing's size does.
  const placeKey = [...ases.map((a) => `${a.ia}@${a.longitude},${a.latitude}`), ...nodes.map((n) => `${n.node}@${n.longitude},${n.latitude}`)].join(';');
  const { projection, countries } = useMemo(() => {
    const projection = fittedProjection([...ases, ...nodes].map((a) => [a.longitude, a.latitude]), size.w, size.h);
    const path = geoPath(projection);
    const countries = countryShapes().map((c) => ({ iso2: c.id, name: c.properties.name, d: path(c) ?? '' }));
    return { projection, countries };
  }, [placeKey, size.w, size.h]);
  const path = geoPath(projection);
  const at = (ia: string) => {
    const a = world.ases.get(ia);
    return a ? projection([a.longitude, a.latitude]) : null;
  };
  const nodeAt = (name: string) => {
    const n = world.srv6Nodes.get(name);
    return n ? projection([n.longitude, n.latitude]) : null;
  };
  const spots = ases.map((a) => projection([a.longitude, a.latitude]) ?? [NaN, NaN]);
  const nodeSpots = nodes.map((n) => projection([n.longitude, n.latitude]) ?? [NaN, NaN]);
  // One placement for AS and node labels, so neither kind covers the other.
  const allLabels = placeLabels([
    ...ases.map((a, i): [number, number, string] => [spots[i][0], spots[i][1], a.ia]),
    ...nodes.map((n, i): [number, number, string] => [nodeSpots[i][0], nodeSpots[i][1], n.node]),
  ]);
  const labels = allLabels.slice(0, ases.length);
  const nodeLabels = allLabels.slice(ases.length);
  const offending = [...world.offending.values()].sort((a, b) => b.flows - a.flows || (a.fence < b.fence ? -1 : 1));
  const offendingSegments = [...world.offendingSegments.values()].sort((a, b) => b.flows - a.flows || (a.fence < b.fence ? -1 : 1));
  const linkPath = (f: { longitude: number; latitude: number }, t: { longitude: number; latitude: number }) =>
    path({ type: 'LineString', coordinates: [[f.longitude, f.latitude], [t.longitude, t.latitude]] }) ?? '';
  const width = (l: MapLink) => `${Math.min(6, 1.5 + Math.log10(l.flows.compliant + l.flows.violation + l.flows.unverified + l.flows.none)).toFixed(1)}px`;
  const flowsTitle = (l: MapLink) => `compliant ${l.flows.compliant}, violation ${l.flows.violation}, unverified ${l.flows.unverified}, no geofence ${l.flows.none}`;

  return (
    <section data-testid="view-world-map" class="view world-view" data-tick={tick}>
      <div class="world-frame" ref={frame}>
      <svg data-testid="world-map" class="world-map" width={size.w} height={size.h} viewBox={`0 0 ${size.w} ${size.h}`}>
        <rect class="sea" x={0} y={0} width={size.w} height={size.h} />
        <g class="countries">
          {countries.map((c, i) => (
            <path key={`${c.iso2}-${i}`} data-testid="country" data-iso2={c.iso2} data-crossed={String(c.iso2 !== '' && world.countries.has(c.iso2))} class="country" d={c.d}>
              <title>{c.name}</title>
            </path>
          ))}
        </g>
        <g class="links">
          {[...world.links.values()].map((l) => {
            if (!world.ases.has(l.from) || !world.ases.has(l.to)) return null;
            const d = linkPath(world.ases.get(l.from) as MapAs, world.ases.get(l.to) as MapAs);
            return (
              <path key={`${l.from}|${l.to}`} data-testid="path-link" data-from={l.from} data-to={l.to} data-verdict={l.verdict} class={`link link-${l.verdict}`} d={d} style={{ strokeWidth: width(l) }}>
                <title>{`${l.from} — ${l.to}: ${flowsTitle(l)}`}</title>
              </path>
            );
          })}
          {[...world.srv6Links.values()].map((l) => {
            if (!world.srv6Nodes.has(l.from) || !world.srv6Nodes.has(l.to)) return null;
            const d = linkPath(world.srv6Nodes.get(l.from) as MapSrv6Node, world.srv6Nodes.get(l.to) as MapSrv6Node);
            return (
              <path key={`srv6 ${l.from}|${l.to}`} data-testid="srv6-link" data-from={l.from} data-to={l.to} data-verdict={l.verdict} class={`link link-srv6 link-${l.verdict}`} d={d} style={{ strokeWidth: width(l) }}>
                <title>{`SRv6 ${l.from} — ${l.to}: ${flowsTitle(l)}`}</title>
              </path>
            );
          })}
        </g>
        <g class="ases">
          {ases.map((a, i) => {
            const [x, y] = spots[i];
            if (!Number.isFinite(x)) return null;
            const l = labels[i];
            return (
              <g key={a.ia} data-testid="as" data-ia={a.ia} data-country={a.country}>
                <circle class="as-dot" cx={x.toFixed(1)} cy={y.toFixed(1)} r={5} />
                {l.y + l.h - 3 > y - 4 && <line class="as-leader" x1={x} y1={y} x2={l.x} y2={l.y + l.h - 4} />}
                <text class="as-label" x={l.x} y={l.y + l.h - 3}>{a.ia}</text>
                <title>{`${a.ia} (${a.country || '?'}) ${a.address} — ${a.flows} flow hops`}</title>
              </g>
            );
          })}
        </g>
        <g class="srv6-nodes">
          {nodes.map((n, i) => {
            const [x, y] = nodeSpots[i];
            if (!Number.isFinite(x)) return null;
            const l = nodeLabels[i];
            return (
              <g key={n.node} data-testid="srv6-node" data-node={n.node} data-country={n.country}>
                <rect class="srv6-dot" x={(x - 4.5).toFixed(1)} y={(y - 4.5).toFixed(1)} width={9} height={9} />
                {l.y + l.h - 3 > y - 4 && <line class="as-leader" x1={x} y1={y} x2={l.x} y2={l.y + l.h - 4} />}
                <text class="as-label srv6-label" x={l.x} y={l.y + l.h - 3}>{n.node}</text>
                <title>{`SRv6 node ${n.node} (${n.country || '?'}) ${n.operator} ${n.address} — ${n.flows} flow segments`}</title>
              </g>
            );
          })}
        </g>
        <g class="offending">
          {offending.map((o) => {
            const p = at(o.ia);
            if (!p) return null;
            return (
              <circle key={`${o.ia}|${o.fence}`} data-testid="offending-hop" data-ia={o.ia} data-fence={o.fence} class="offending-hop" cx={p[0]} cy={p[1]} r={12}>
                <title>{`${o.ia} (${o.country}) breaks ${o.fence}`}</title>
              </circle>
            );
          })}
          {offendingSegments.map((o) => {
            const p = nodeAt(o.node);
            if (!p) return null;
            return (
              <circle key={`srv6 ${o.node}|${o.fence}`} data-testid="offending-segment" data-node={o.node} data-sid={o.sid} data-fence={o.fence} class="offending-hop" cx={p[0]} cy={p[1]} r={12}>
                <title>{`segment ${o.sid} (${o.node}, ${o.country}) breaks ${o.fence}`}</title>
              </circle>
            );
          })}
        </g>
      </svg>
      </div>
      <div class="world-legend">
        <ul class="verdict-legend">
          {VERDICT_LEGEND.map(([v, label]) => (
            <li key={v}><span class={`swatch link-${v}`} />{label}</li>
          ))}
        </ul>
        <ul class="kind-legend" data-testid="path-kind-legend">
          <li><span class="swatch kind-scion" />SCION path, <span class="legend-dot as-dot" /> AS</li>
          <li><span class="swatch kind-srv6" />SRv6 segments, <span class="legend-dot srv6-dot" /> SRv6 node</li>
        </ul>
        {(offending.length > 0 || offendingSegments.length > 0) && (
          <div class="violations">
            <h3>Violations</h3>
            <ul>
              {offending.map((o) => (
                <li key={`${o.ia}|${o.fence}`} data-testid="violation" data-fence={o.fence}>
                  fence <strong>{o.fence}</strong>: hop {o.ia} in {o.country || 'an unknown country'} ({o.flows} flows)
                </li>
              ))}
              {offendingSegments.map((o) => (
                <li key={`srv6 ${o.node}|${o.fence}`} data-testid="violation" data-fence={o.fence} data-sid={o.sid}>
                  fence <strong>{o.fence}</strong>: SRv6 segment {o.sid} ({o.node}) in {o.country || 'an unknown country'} ({o.flows} flows)
                </li>
              ))}
            </ul>
          </div>
        )}
        {ases.length === 0 && nodes.length === 0 && <p class="empty">No flows with SCION or SRv6 paths yet.</p>}
        {world.overflow > 0 && <p class="note">{world.overflow} hops or links not drawn: more than the map holds.</p>}
      </div>
    </section>
  );
}
