// The world map's projection: Natural Earth, fitted to the ASes in view with a margin around
// each and to the drawing's size, so a map of Swiss and German ASes shows Europe and one
// with Singapore zooms out.
import { geoNaturalEarth1, type GeoProjection } from 'd3-geo';

const PAD = 30;
/** Degrees kept around every AS, so neighbouring countries show. */
const MARGIN = { lon: 9, lat: 6 };

/** Fitted into a `width` × `height` drawing. */
export function fittedProjection(points: readonly [number, number][], width: number, height: number): GeoProjection {
  const p = geoNaturalEarth1();
  const extent: [[number, number], [number, number]] = [[PAD, PAD], [Math.max(PAD + 1, width - PAD), Math.max(PAD + 1, height - PAD)]];
  if (points.length === 0) return p.fitExtent(extent, { type: 'Sphere' });
  const around = points.flatMap(([lon, lat]): [number, number][] => [
    [Math.max(-180, lon - MARGIN.lon), Math.max(-85, lat - MARGIN.lat)],
    [Math.min(180, lon + MARGIN.lon), Math.min(85, lat + MARGIN.lat)],
  ]);
  return p.fitExtent(extent, { type: 'MultiPoint', coordinates: around });
}
