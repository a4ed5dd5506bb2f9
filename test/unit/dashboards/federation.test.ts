// deploy/clickhouse/federation.sql: one Grafana view of several clusters' stores. The file is
// what the generator makes; its tables are exactly the ones the dashboards read; and every
// dashboard query runs on its table definitions over two clusters' stores, counting a path
// that both stores hold once. No ClickHouse server runs here to be a Distributed table's
// shard: a Merge table over two databases of one embedded store stands in for the
// Distributed engine, with the federation's own column definitions.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDashboards, runner, type QueryResult } from '../../../dashboards/src/check';
import { federationOverDatabases } from '../../../dashboards/src/federate';
import { FEDERATED_TABLES, FEDERATION_CLUSTER, federationDDL } from '../../../dashboards/src/federation_ddl';
import { PATH_LABELS } from '../../../dashboards/src/filters';
import { DASHBOARDS } from '../../../dashboards/src/generate';
import { queriesOf } from '../../../dashboards/src/queries';
import { openClickHouse, type ClickHouseHandle } from '../../../relay/store/chdb';
import { CORPUS_START_MS, makeCorpus } from '../relay/store/corpus';
import { createNarrowStore, insertCorpus } from '../relay/store/narrow';

const REPO = join(__dirname, '..', '..', '..');
const STORES = ['zurich', 'frankfurt'];

async function scalar(ch: ClickHouseHandle, sql: string): Promise<number> {
  const rows = (await (await ch.client.query({ query: sql, format: 'JSONCompactEachRow' })).json()) as unknown[][];
  return Number(rows[0]?.[0]);
}

describe('dashboards: one view over several clusters\' stores (deploy/clickhouse/federation.sql)', function () {
  this.timeout(120_000);
  let dir: string;
  let ch: ClickHouseHandle;
  let results: QueryResult[];

  it('is the generated DDL: Distributed tables over each cluster\'s, for exactly the tables the dashboards read', () => {
    const file = readFileSync(join(REPO, 'deploy', 'clickhouse', 'federation.sql'), 'utf8');
    assert.equal(file, federationDDL(), 'regenerate: npx tsx dashboards/src/federation_ddl.ts > deploy/clickhouse/federation.sql');
    const read = new Set(Object.values(DASHBOARDS).flatMap((d) => queriesOf(d).flatMap((q) => [...q.rawSql.matchAll(/\$\{database\}\.(\w+)/g)].map((m) => m[1]))));
    assert.deepEqual([...read].sort(), [...FEDERATED_TABLES].sort());
    for (const t of FEDERATED_TABLES) assert.ok(file.includes(`ENGINE = Distributed(${FEDERATION_CLUSTER}, cillion, ${t}_local)`), t);
    assert.ok(federationDDL({ singleServer: true }).includes(`ENGINE = Distributed(${FEDERATION_CLUSTER}, cillion, flows)`));
    assert.ok(!/\b(INDEX|PROJECTION)\b/.test(file), 'a table holding no data has no index or projection');
    assert.ok(readFileSync(join(REPO, 'deploy', 'clickhouse', 'federation.xml'), 'utf8').includes(`<${FEDERATION_CLUSTER}>`), 'federation.xml names the cluster');
  });

  describe('over two stores', () => {
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cillion-federation-test-'));
      ch = openClickHouse({ dataDir: dir });
      // Two clusters' stores, with different flows over the same paths.
      for (const [i, db] of STORES.entries()) {
        await createNarrowStore(ch.client, db);
        await insertCorpus(ch, db, makeCorpus(800, i + 1), 400);
      }
      for (const s of federationOverDatabases(STORES)) await ch.client.command({ query: s });
      const range = { from: new Date(CORPUS_START_MS - 3_600_000), to: new Date(CORPUS_START_MS + 3_600_000) };
      results = await checkDashboards(runner(ch.client), range);
    });
    after(async () => {
      await ch?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs every dashboard query on the federated tables without an error, with rows from both stores', async () => {
      assert.ok(results.length > 30);
      assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.dashboard} ${r.name}: ${r.error}`), []);
      const each = await Promise.all(STORES.map((db) => scalar(ch, `SELECT count() FROM ${db}.flows`)));
      assert.equal(await scalar(ch, 'SELECT count() FROM cillion.flows'), each[0] + each[1]);
      assert.ok(each.every((n) => n > 0));
    });

    it('counts a path both stores hold once', async () => {
      assert.ok((await scalar(ch, 'SELECT count() - uniqExact(fingerprint) FROM cillion.paths FINAL')) > 0, 'the stores share paths');
      const sent = `FROM cillion.flows WHERE traffic_direction = 'EGRESS' AND path_fingerprint != ''`;
      const joined = await scalar(ch, `SELECT sum(f.bytes) FROM (SELECT path_fingerprint, bytes ${sent}) AS f LEFT JOIN (${PATH_LABELS.replace('${database}', 'cillion')}) AS p ON p.fingerprint = f.path_fingerprint`);
      assert.equal(joined, await scalar(ch, `SELECT sum(bytes) ${sent}`));
      const geo = results.find((r) => r.kind === 'geomap' && r.refId === 'edges');
      assert.ok(geo && geo.rows > 0);
    });
  });

  describe('dashboards/src/check.ts over two stores in their own data directories, as the demo runs it', () => {
    let dirs: string[];
    let federated: QueryResult[];
    before(async () => {
      dirs = STORES.map((db) => mkdtempSync(join(tmpdir(), `cillion-federation-${db}-`)));
      // The same flows as above, each store in a directory of its own, as the relays keep them.
      for (const [i, d] of dirs.entries()) {
        const store = openClickHouse({ dataDir: d });
        try {
          await createNarrowStore(store.client, 'cillion');
          await insertCorpus(store, 'cillion', makeCorpus(800, i + 1), 400);
        } finally {
          await store.close();
        }
      }
      const out = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--require', 'tsx/cjs', join(REPO, 'dashboards', 'src', 'check.ts'), ...dirs.flatMap((d) => ['--data-dir', d]), '--from', new Date(CORPUS_START_MS - 3_600_000).toISOString(), '--to', new Date(CORPUS_START_MS + 3_600_000).toISOString()],
          { cwd: REPO, maxBuffer: 64 << 20 },
          (err, so, se) => (err ? reject(new Error(se || err.message)) : resolve(so)),
        );
      });
      federated = out.trim().split('\n').map((l) => JSON.parse(l) as QueryResult);
    });
    after(() => {
      for (const d of dirs ?? []) rmSync(d, { recursive: true, force: true });
    });

    it('answers every query as the federation\'s tables over both stores do', () => {
      // Rows alike; a first row may differ where two stores' flows share a time.
      const summary = (rs: QueryResult[]) => rs.map((r) => `${r.dashboard} ${r.name} (${r.refId}): ${r.error ?? `${r.rows} rows`}`);
      assert.deepEqual(summary(federated), summary(results));
    });
  });
});
