// The committed dashboards/*.json, generated from these typed sources (a unit test checks
// they match). Regenerate with
//   npx tsx dashboards/src/generate.ts
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dashboard } from '@grafana/schema';
import { compliance } from './compliance';
import { datapathHealth } from './datapath_health';
import { geographicPaths } from './geographic_paths';
import { pathUsage } from './path_usage';

/** File name (in dashboards/) -> dashboard. */
export const DASHBOARDS: Record<string, Dashboard> = {
  'geographic-paths.json': geographicPaths,
  'compliance.json': compliance,
  'path-usage.json': pathUsage,
  'datapath-health.json': datapathHealth,
};

export function dashboardJson(d: Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

if (require.main === module) {
  const dir = join(__dirname, '..');
  for (const [file, d] of Object.entries(DASHBOARDS)) writeFileSync(join(dir, file), dashboardJson(d));
}
