// The datasource every panel and variable names: the uid that
// provisioning/datasources/clickhouse.yaml gives the ClickHouse plugin's datasource.
export const DATASOURCE = { type: 'grafana-clickhouse-datasource', uid: 'cillion-clickhouse' } as const;
