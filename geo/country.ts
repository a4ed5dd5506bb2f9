// The country a border router stands in, from its declared coordinates, for hops whose path
// metadata names no country. Offline, through @rapideditor/country-coder (land borders
// only: a point at sea, or coordinates that are not a place on Earth, have no country).
// The ISO 3166-1 territory level is asked for, not the sovereign state: Greenland is GL,
// not DK, and Hong Kong HK, not CN, so a fence never takes a dependency for its parent's
// legal area. The price is that outermost EU regions (Réunion is RE) fall outside an EU
// fence, the safe side for a geofence.
import type * as CountryCoder from '@rapideditor/country-coder' with { 'resolution-mode': 'import' };
import { LRUCache } from 'lru-cache';

// The package is ESM-typed but ships a CommonJS build that its "require" export resolves
// to; only the types come through the ESM view.
const coder: typeof CountryCoder = require('@rapideditor/country-coder');

/** ISO 3166-1 alpha-2 code at [longitude, latitude], or null; the library's own order. */
export type Coder = (longitude: number, latitude: number) => string | null;

const territoryCode: Coder = (longitude, latitude) => coder.iso1A2Code([longitude, latitude], { level: 'territory' });

const NONE = '';

export interface CountryLookupOptions {
  /** Distinct coordinates remembered; default 4096 (border routers are few, garbage is not). */
  max?: number;
  /** The point-in-polygon lookup; country-coder's by default. */
  coder?: Coder;
}

export function validCoordinates(latitude: number, longitude: number): boolean {
  return Number.isFinite(latitude) && Number.isFinite(longitude) && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180;
}

/** Cached coordinate → country lookups; a lookup costs microseconds, a cache hit nanoseconds. */
export class CountryLookup {
  private readonly cache: LRUCache<string, string>;
  private readonly coder: Coder;

  constructor(opts: CountryLookupOptions = {}) {
    this.cache = new LRUCache({ max: opts.max ?? 4096 });
    this.coder = opts.coder ?? territoryCode;
  }

  /** ISO 3166-1 alpha-2 code of the land at the point; undefined at sea or for invalid coordinates. */
  countryAt(latitude: number, longitude: number): string | undefined {
    if (!validCoordinates(latitude, longitude)) return undefined;
    const key = `${latitude},${longitude}`;
    let code = this.cache.get(key);
    if (code === undefined) {
      code = this.coder(longitude, latitude) ?? NONE;
      this.cache.set(key, code);
    }
    return code === NONE ? undefined : code;
  }

  get size(): number {
    return this.cache.size;
  }
}

/** The process-wide lookup the engine uses unless given another. */
export const defaultCountryLookup = new CountryLookup();
