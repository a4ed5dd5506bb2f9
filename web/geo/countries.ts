// The country shapes the build bundled (world-atlas countries-50m, ids turned into ISO 3166
// alpha-2 codes by build.mjs), as GeoJSON features, converted once on first use.
import shapes from 'virtual:world-shapes';
import { feature } from 'topojson-client';
import type { Feature, FeatureCollection, Geometry } from 'geojson';

export type CountryShape = Feature<Geometry, { name: string }> & { id: string };

let cached: CountryShape[] | undefined;

export function countryShapes(): CountryShape[] {
  if (!cached) {
    const fc = feature(shapes, shapes.objects.countries) as unknown as FeatureCollection<Geometry, { name: string }>;
    cached = fc.features.map((f) => ({ ...f, id: String(f.id ?? '') }));
  }
  return cached;
}
