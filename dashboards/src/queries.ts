// Every SQL query of a dashboard: its query variables' and its panels' targets.
import type { Dashboard, Panel, RowPanel } from '@grafana/schema';

export interface DashboardQuery {
  /** "variable" or the panel's visualisation type ("timeseries", "geomap", ...). */
  kind: string;
  /** The variable's name or the panel's title. */
  name: string;
  refId: string;
  rawSql: string;
  /** sqlds format: 0 time series, 1 table. */
  format: number;
  datasourceUid: string | undefined;
}

interface SqlTarget {
  refId?: string;
  rawSql?: string;
  format?: number;
  datasource?: { uid?: string };
}

const isRow = (p: Panel | RowPanel): p is RowPanel => p.type === 'row';

export function panelsOf(d: Dashboard): Panel[] {
  return (d.panels ?? []).flatMap((p) => (isRow(p) ? p.panels : [p]));
}

export function queriesOf(d: Dashboard): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = v.query as SqlTarget;
    out.push({ kind: 'variable', name: v.name, refId: 'variable', rawSql: q.rawSql ?? '', format: q.format ?? 1, datasourceUid: v.datasource?.uid });
  }
  for (const p of panelsOf(d)) {
    for (const t of (p.targets ?? []) as SqlTarget[]) {
      out.push({ kind: p.type, name: p.title ?? '', refId: t.refId ?? '', rawSql: t.rawSql ?? '', format: t.format ?? 0, datasourceUid: t.datasource?.uid });
    }
  }
  return out;
}
