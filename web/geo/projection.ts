// The world map's projection: Natural Earth, fitted to the ASes in view with a margin around
// each, so a map of Swiss and German ASes shows Europe and one with Singapore zooms out.
import { geoNaturalEarth1, type GeoProjection } from 'd3-geo';

export const MAP_W = 1000;
export const MAP_H = 560;
const PAD = 30;
/** Degrees kept around every AS, so neighbouring countries show. */
const MARGIN = { lon: 9, lat: 6 };

export function fittedProjection(points: readonly [number, number][]): GeoProjection {
  const p = geoNaturalEarth1();
  if (points.length === 0) return p.fitExtent([[PAD, PAD], [MAP_W - PAD, MAP_H - PAD]], { type: 'Sphere' });
  const around = points.flatMap(([lon, lat]): [number, number][] => [
    [Math.max(-180, lon - MARGIN.lon), Math.max(-85, lat - MARGIN.lat)],
    [Math.min(180, lon + MARGIN.lon), Math.min(85, lat + MARGIN.lat)],
  ]);
  return p.fitExtent([[PAD, PAD], [MAP_W - PAD, MAP_H - PAD]], { type: 'MultiPoint', coordinates: around });
}
