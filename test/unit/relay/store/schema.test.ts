import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse } from '../../../../relay/store/chdb';
import { clusterDDL } from '../../../../relay/store/cluster_ddl';
import { FLOW_ALIASES, STORED_FLOW_COLUMNS } from '../../../../relay/store/flow_columns';
import { clusterSchemaStatements, schemaStatements } from '../../../../relay/store/schema';

const repo = join(__dirname, '..', '..', '..', '..');

/** Column names of a CREATE TABLE body, in order (indexes and projections excluded). */
function columns(stmt: string): string[] {
  const body = stmt.slice(stmt.indexOf('(') + 1, stmt.lastIndexOf(') ENGINE'));
  return body.split('\n').map((l) => l.trim()).filter((l) => /^[a-z_0-9]+ [A-Z]/.test(l)).map((l) => l.split(' ')[0]);
}

describe('relay/store schema', () => {
  const opts = { database: 'cillion', ttlDays: 7, rollupTtlDays: 90 };

  it('deploy/clickhouse/schema.sql is the generated cluster DDL', () => {
    const file = readFileSync(join(repo, 'deploy', 'clickhouse', 'schema.sql'), 'utf8');
    assert.equal(file, clusterDDL(), 'regenerate: npx tsx relay/store/cluster_ddl.ts > deploy/clickhouse/schema.sql');
  });

  it('gives the cluster tables the same columns as the embedded ones', () => {
    const single = schemaStatements(opts).filter((s) => s.startsWith('CREATE TABLE'));
    const cluster = clusterSchemaStatements({ ...opts, cluster: 'c1' }).filter((s) => s.includes('_local ON CLUSTER c1 ('));
    assert.equal(cluster.length, single.length);
    for (let i = 0; i < single.length; i++) assert.deepEqual(columns(cluster[i]), columns(single[i]));
  });

  it('creates flows with the stored columns in their order, then the ALIAS columns, and no blob', () => {
    const flows = columns(schemaStatements(opts).find((s) => s.includes('.flows ('))!);
    assert.deepEqual(flows, [...STORED_FLOW_COLUMNS.map((c) => c.name), ...FLOW_ALIASES.map((a) => a.name)]);
  });

  it('writes cluster DDL that ClickHouse parses', async function () {
    this.timeout(20_000);
    const dir = mkdtempSync(join(tmpdir(), 'cillion-ddl-test-'));
    const ch = openClickHouse({ dataDir: dir });
    try {
      for (const stmt of clusterSchemaStatements({ ...opts, cluster: 'c1' })) {
        const rows = await (await ch.client.query({ query: 'SELECT formatQuery({q:String}) AS f', query_params: { q: stmt }, format: 'JSONEachRow' })).json<{ f: string }>();
        assert.match(rows[0].f, /^CREATE/);
      }
    } finally {
      await ch.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses identifiers and TTLs that would have to be quoted or make no sense', () => {
    assert.throws(() => schemaStatements({ ...opts, database: 'x; DROP TABLE y' }));
    assert.throws(() => schemaStatements({ ...opts, ttlDays: 0 }));
    assert.throws(() => clusterSchemaStatements({ ...opts, cluster: "c'1" }));
  });
});
