// The world map of paths: countries (those a path in view crosses shaded), the ASes flows
// crossed at their declared geo, the links between consecutive hops coloured by the worst
// geofence verdict of the flows over them, each violation's offending hop ringed, and a
// legend naming the fence, the AS and its country. Redrawn at most every MAP_INTERVAL_MS.
import { geoPath } from 'd3-geo';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { countryShapes } from '../geo/countries';
import { placeLabels } from '../geo/labels';
import { fittedProjection } from '../geo/projection';
import type { FlowDeck } from '../state/flow_deck';
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
  // The projection (and the costly country outlines) change only when the set of ASes or
  // the drawing's size does.
  const placeKey = ases.map((a) => `${a.ia}@${a.longitude},${a.latitude}`).join(';');
  const { projection, countries } = useMemo(() => {
    const projection = fittedProjection(ases.map((a) => [a.longitude, a.latitude]), size.w, size.h);
    const path = geoPath(projection);
    const countries = countryShapes().map((c) => ({ iso2: c.id, name: c.properties.name, d: path(c) ?? '' }));
    return { projection, countries };
  }, [placeKey, size.w, size.h]);
  const path = geoPath(projection);
  const at = (ia: string) => {
    const a = world.ases.get(ia);
    return a ? projection([a.longitude, a.latitude]) : null;
  };
  const spots = ases.map((a) => projection([a.longitude, a.latitude]) ?? [NaN, NaN]);
  const labels = placeLabels(ases.map((a, i): [number, number, string] => [spots[i][0], spots[i][1], a.ia]));
  const offending = [...world.offending.values()].sort((a, b) => b.flows - a.flows || (a.fence < b.fence ? -1 : 1));

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
            const fa = world.ases.get(l.from) as { longitude: number; latitude: number };
            const ta = world.ases.get(l.to) as { longitude: number; latitude: number };
            const d = path({ type: 'LineString', coordinates: [[fa.longitude, fa.latitude], [ta.longitude, ta.latitude]] }) ?? '';
            const total = l.flows.compliant + l.flows.violation + l.flows.unverified + l.flows.none;
            return (
              <path key={`${l.from}|${l.to}`} data-testid="path-link" data-from={l.from} data-to={l.to} data-verdict={l.verdict} class={`link link-${l.verdict}`} d={d} style={{ strokeWidth: `${Math.min(6, 1.5 + Math.log10(total)).toFixed(1)}px` }}>
                <title>{`${l.from} — ${l.to}: compliant ${l.flows.compliant}, violation ${l.flows.violation}, unverified ${l.flows.unverified}, no geofence ${l.flows.none}`}</title>
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
        </g>
      </svg>
      </div>
      <div class="world-legend">
        <ul class="verdict-legend">
          {VERDICT_LEGEND.map(([v, label]) => (
            <li key={v}><span class={`swatch link-${v}`} />{label}</li>
          ))}
        </ul>
        {offending.length > 0 && (
          <div class="violations">
            <h3>Violations</h3>
            <ul>
              {offending.map((o) => (
                <li key={`${o.ia}|${o.fence}`} data-testid="violation" data-fence={o.fence}>
                  fence <strong>{o.fence}</strong>: hop {o.ia} in {o.country || 'an unknown country'} ({o.flows} flows)
                </li>
              ))}
            </ul>
          </div>
        )}
        {ases.length === 0 && <p class="empty">No flows with SCION paths yet.</p>}
        {world.overflow > 0 && <p class="note">{world.overflow} hops or links not drawn: more than the map holds.</p>}
      </div>
    </section>
  );
}
