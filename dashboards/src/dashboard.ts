// One provisioned Cillion dashboard: its panels laid out, the shared variables, the last
// hour refreshed every 30 s, and links to the other three.
import { DashboardCursorSync, type Dashboard, type Panel } from '@grafana/schema';
import { layout } from './panels';
import { VARIABLES } from './variables';

export function dashboard(uid: string, title: string, description: string, panels: Panel[]): Dashboard {
  return {
    uid,
    title,
    description,
    tags: ['cillion'],
    editable: true,
    graphTooltip: DashboardCursorSync.Crosshair,
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    timezone: 'utc',
    schemaVersion: 41,
    version: 1,
    links: [{ title: 'Cillion', type: 'dashboards', tags: ['cillion'], asDropdown: true, includeVars: true, keepTime: true, icon: 'external link', targetBlank: false, tooltip: '', url: '' }],
    templating: { list: VARIABLES },
    annotations: { list: [] },
    panels: layout(panels),
  };
}
