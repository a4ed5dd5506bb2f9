// Country codes for geofences: ISO 3166-1 alpha-2 as the i18n-iso-countries package lists
// them (it tracks ISO's list and includes the user-assigned XK for Kosovo), plus named
// groups a fence may use instead of spelling out their members.
import { getAlpha2Codes } from 'i18n-iso-countries';

const ALPHA2: ReadonlySet<string> = new Set(Object.keys(getAlpha2Codes()));

/**
 * Member states by ISO code. Greece is GR here (the EU's own protocol order writes EL), and
 * the United Kingdom left the EU on 2020-01-31. The EEA is the EU plus Iceland,
 * Liechtenstein and Norway; Switzerland is in neither.
 */
const EU = ['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK'];

export const COUNTRY_GROUPS: Readonly<Record<string, readonly string[]>> = {
  EU,
  EEA: [...EU, 'IS', 'LI', 'NO'].sort(),
};

/** The member codes of a group name, the code itself for a country, undefined for anything else. */
export function expandCountry(codeOrGroup: string): readonly string[] | undefined {
  if (Object.prototype.hasOwnProperty.call(COUNTRY_GROUPS, codeOrGroup)) return COUNTRY_GROUPS[codeOrGroup];
  return ALPHA2.has(codeOrGroup) ? [codeOrGroup] : undefined;
}
