// ISO 3166-1 alpha-2 codes, from the same package geo/countries.ts reads (srv6/ sits in
// geo's layer, so it cannot import geo/). Groups such as EU are not codes here.
import { getAlpha2Codes } from 'i18n-iso-countries';

const ALPHA2: ReadonlySet<string> = new Set(Object.keys(getAlpha2Codes()));

export function isCountryCode(code: unknown): code is string {
  return typeof code === 'string' && ALPHA2.has(code);
}
