// Geographic paths: the ASes and AS-to-AS links that flows crossed, on a map. Grafana's
// Geomap "network" layer draws a node graph: a frame of nodes (id, latitude, longitude)
// and a frame of edges (id, source, target) told apart by the query refIds "nodes" and
// "edges". The hops' geo comes from the paths table (SCION path metadata).
import { FrameGeometrySourceMode, ResourceDimensionMode, TextDimensionMode } from '@grafana/schema';
import { TooltipMode } from '@grafana/schema/dist/esm/raw/composable/geomap/panelcfg/x/GeomapPanelCfg_types.gen';
import { dashboard } from './dashboard';
import { FILTERS, FLOWS, ONE_PER_PATH, PATHS, SENT, VERDICT_LEVEL, WORKLOAD } from './filters';
import { Format, geomap, sql, table, verdictLevelOverride } from './panels';

/** Bytes, flow reports and the worst verdict of the flows sent on each path in the range. */
const PER_PATH = `
  SELECT path_fingerprint, sum(bytes) AS bytes, count() AS flows, max(${VERDICT_LEVEL}) AS level
  FROM (
    ${WORKLOAD}
    SELECT path_fingerprint, bytes, geofence_verdict FROM ${FLOWS}
    WHERE ${FILTERS}
      AND ${SENT} AND path_fingerprint != ''
  )
  GROUP BY path_fingerprint`;

/** Each path's hops that carry geo, in order: (isd_as, latitude, longitude, country). */
const LOCATED_HOPS = `
  SELECT fingerprint,
    arrayFilter(h -> h.2 IS NOT NULL AND h.3 IS NOT NULL,
      arrayZip(hops.isd_as, hops.latitude, hops.longitude, hops.country)) AS located
  FROM ${PATHS} FINAL ${ONE_PER_PATH}`;

const NODES = `
SELECT hop.1 AS id, hop.1 AS title, any(hop.4) AS country, any(hop.2) AS latitude, any(hop.3) AS longitude,
  sum(f.bytes) AS bytes, sum(f.flows) AS flows, max(f.level) AS verdict_level
FROM (${PER_PATH}
) AS f
INNER JOIN (${LOCATED_HOPS}
) AS p ON p.fingerprint = f.path_fingerprint
ARRAY JOIN p.located AS hop
GROUP BY id, title
ORDER BY bytes DESC`;

/** Consecutive located hops of a path; a hop without geo is stepped over (and its flows are UNVERIFIED). */
const EDGES = `
SELECT concat(link.1, ' > ', link.2) AS id, link.1 AS source, link.2 AS target,
  sum(f.bytes) AS bytes, sum(f.flows) AS flows, max(f.level) AS verdict_level
FROM (${PER_PATH}
) AS f
INNER JOIN (
  SELECT fingerprint, arrayMap(h -> h.1, located) AS ias, arrayZip(arrayPopBack(ias), arrayPopFront(ias)) AS links
  FROM (${LOCATED_HOPS}
  )
) AS p ON p.fingerprint = f.path_fingerprint
ARRAY JOIN p.links AS link
GROUP BY id, source, target
ORDER BY bytes DESC`;

/** The map and its tables alike: bytes in byte units, the verdict level as its colour. */
const BYTES_AND_VERDICT = [verdictLevelOverride, { matcher: { id: 'byName', options: 'bytes' }, properties: [{ id: 'unit', value: 'decbytes' }] }];

const map = geomap(
  {
    title: 'ASes and links crossed',
    description:
      'Every AS a sent flow crossed, at the location its SCION path metadata declares, and every AS-to-AS link between them. ' +
      'Size: bytes; colour: the worst geofence verdict of the flows through it (blue no fence, green compliant, orange unverified, red violation). ' +
      'Geo is self-declared by each AS and signed in the control plane.',
    w: 24,
    h: 16,
    overrides: BYTES_AND_VERDICT,
  },
  {
    view: { id: 'fit', allLayers: true, lat: 48, lon: 8, zoom: 4, padding: 10 },
    controls: { showZoom: true, mouseWheelZoom: true, showAttribution: true },
    basemap: { type: 'default', name: 'Basemap' },
    layers: [
      {
        type: 'network',
        name: 'ASes and links',
        tooltip: true,
        location: { mode: FrameGeometrySourceMode.Coords, latitude: 'latitude', longitude: 'longitude' },
        config: {
          showLegend: true,
          arrow: 1,
          style: {
            color: { field: 'verdict_level', fixed: 'blue' },
            size: { field: 'bytes', fixed: 6, min: 5, max: 18 },
            opacity: 0.9,
            symbol: { mode: ResourceDimensionMode.Fixed, fixed: 'img/icons/marker/circle.svg' },
            text: { mode: TextDimensionMode.Field, field: 'id', fixed: '' },
            textConfig: { fontSize: 11, offsetX: 0, offsetY: -16, textAlign: 'center', textBaseline: 'middle' },
          },
          edgeStyle: {
            color: { field: 'verdict_level', fixed: 'blue' },
            size: { field: 'bytes', fixed: 2, min: 1, max: 8 },
            opacity: 0.8,
          },
        },
      },
    ],
    tooltip: { mode: TooltipMode.Details },
  },
  [sql(NODES, Format.Table, 'nodes'), sql(EDGES, Format.Table, 'edges')],
);

const links = table(
  {
    title: 'AS links',
    description: 'The edges of the map as a table: each AS-to-AS link, the bytes and flow reports sent over it and their worst verdict.',
    w: 12,
    h: 10,
    sortBy: 'bytes',
    overrides: BYTES_AND_VERDICT,
  },
  sql(EDGES, Format.Table),
);

const ases = table(
  {
    title: 'ASes',
    description: 'The nodes of the map: each AS crossed, its declared country and location, bytes and flow reports through it.',
    w: 12,
    h: 10,
    sortBy: 'bytes',
    overrides: BYTES_AND_VERDICT,
  },
  sql(NODES, Format.Table),
);

/**
 * SRv6 segments: the store keeps each segment's node country (srv6_countries, from the SID
 * catalogue) but no coordinates, so they are a table beside the map, not points on it.
 */
const srv6Segments = table(
  {
    title: 'SRv6 segments crossed',
    description:
      "Every SRv6 segment (SID) a sent flow's segment list named, with its node's country from the SID catalogue (?? where none is declared), " +
      'the bytes and flow reports sent through it and their worst geofence verdict.',
    w: 24,
    h: 9,
    sortBy: 'bytes',
    overrides: BYTES_AND_VERDICT,
  },
  sql(
    `
SELECT seg.1 AS sid, if(seg.2 = '', '??', seg.2) AS country, sum(bytes) AS bytes, count() AS flows, max(level) AS verdict_level
FROM (
  ${WORKLOAD}
  SELECT bytes, ${VERDICT_LEVEL} AS level, arrayZip(splitByChar(',', srv6_segments), splitByChar(',', srv6_countries)) AS segs
  FROM ${FLOWS}
  WHERE ${FILTERS}
    AND ${SENT} AND path_type = 'WAN_PATH_SRV6' AND srv6_segments != '' AND length(splitByChar(',', srv6_countries)) = length(splitByChar(',', srv6_segments))
)
ARRAY JOIN segs AS seg
GROUP BY sid, country
ORDER BY bytes DESC`,
    Format.Table,
  ),
);

export const geographicPaths = dashboard(
  'cillion-geographic-paths',
  'Cillion / Geographic paths',
  'Where the traffic went: the SCION ASes and links the flows crossed, weighted by bytes, coloured by geofence verdict; the SRv6 segments and their countries.',
  [map, links, ases, srv6Segments],
);
