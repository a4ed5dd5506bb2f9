// The template variables every dashboard shares. The time range is Grafana's own; cluster,
// namespace, app and fence are multi-value query variables with All, each narrowed by the
// ones before it; database names where the relay keeps its tables.
import { VariableHide, VariableRefresh, VariableSort, type VariableModel } from '@grafana/schema';
import { DATASOURCE } from './datasource';
import { FLOWS, WORKLOAD } from './filters';

function queryVariable(name: string, label: string, description: string, rawSql: string): VariableModel {
  const q = rawSql.trim();
  return {
    type: 'query',
    name,
    label,
    description,
    datasource: DATASOURCE,
    query: { editorType: 'sql', rawSql: q, format: 1 },
    multi: true,
    includeAll: true,
    current: { text: ['All'], value: ['$__all'] },
    refresh: VariableRefresh.onTimeRangeChanged,
    sort: VariableSort.alphabeticalAsc,
    hide: VariableHide.dontHide,
  };
}

const distinct = (column: string, where: string) => `
SELECT DISTINCT ${column} FROM (
  ${WORKLOAD}
  SELECT cluster, namespace, app, geofence_name FROM ${FLOWS}
  WHERE $__timeFilter(time)${where}
)
WHERE ${column} != ''
ORDER BY ${column}`;

const cluster = `
  AND $__conditionalAll(cluster IN (\${cluster}), $cluster)`;
const namespace = `
  AND $__conditionalAll(namespace IN (\${namespace}), $namespace)`;
const app = `
  AND $__conditionalAll(app IN (\${app}), $app)`;

export const VARIABLES: VariableModel[] = [
  {
    type: 'constant',
    name: 'database',
    label: 'Database',
    description: "The relay's --database",
    query: 'cillion',
    hide: VariableHide.hideVariable,
  },
  queryVariable('cluster', 'Cluster', 'Cluster of the node that saw the flow', distinct('cluster', '')),
  queryVariable('namespace', 'Namespace', "The workload's namespace", distinct('namespace', cluster)),
  queryVariable('app', 'App', "The workload's app label (app.kubernetes.io/name, app or k8s-app)", distinct('app', cluster + namespace)),
  queryVariable('fence', 'Geofence', 'The geofence that judged the flow', distinct('geofence_name', cluster + namespace + app)),
];
