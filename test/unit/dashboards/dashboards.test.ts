// What Grafana needs of the dashboards beyond their schema: every query on the provisioned
// ClickHouse datasource in the plugin's SQL-editor form, every variable it uses defined,
// the Geomap's network layer fed a nodes and an edges frame, and provisioning files that
// name the same datasource.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DATASOURCE } from '../../../dashboards/src/datasource';
import { SRV6_DROP_REASONS } from '../../../dashboards/src/datapath_health';
import { DASHBOARDS } from '../../../dashboards/src/generate';
import { variablesUsed } from '../../../dashboards/src/macros';
import { panelsOf, queriesOf } from '../../../dashboards/src/queries';

const dir = join(__dirname, '..', '..', '..', 'dashboards');
const fromFile = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as (typeof DASHBOARDS)[string];

describe('dashboards: panels, queries and provisioning', () => {
  for (const file of Object.keys(DASHBOARDS)) {
    describe(file, () => {
      const d = fromFile(file);

      it('puts every panel, query and query variable on the provisioned datasource, in the SQL editor', () => {
        for (const p of panelsOf(d)) {
          assert.deepEqual(p.datasource, DATASOURCE, p.title);
          assert.ok((p.targets ?? []).length > 0, `${p.title} has queries`);
          for (const t of p.targets ?? []) {
            assert.deepEqual(t.datasource, DATASOURCE, p.title);
            assert.equal(t.editorType, 'sql', p.title);
            assert.ok([0, 1].includes(t.format as number), `${p.title}: format ${String(t.format)}`);
            assert.equal(t.queryType, t.format === 0 ? 'timeseries' : 'table', p.title);
          }
        }
        for (const v of d.templating?.list ?? []) if (v.type === 'query') assert.deepEqual(v.datasource, DATASOURCE, v.name);
      });

      it('defines every variable its SQL uses, and the template variables cluster, namespace, app and fence as multi-value with All', () => {
        const defined = new Set((d.templating?.list ?? []).map((v) => v.name));
        for (const q of queriesOf(d)) {
          for (const name of variablesUsed(q.rawSql)) assert.ok(defined.has(name), `${q.name} uses $${name}`);
        }
        for (const name of ['cluster', 'namespace', 'app', 'fence']) {
          const v = d.templating?.list?.find((x) => x.name === name);
          assert.equal(v?.type, 'query', name);
          assert.equal(v?.multi, true, name);
          assert.equal(v?.includeAll, true, name);
        }
      });

      it('filters every panel by the time range and every flows panel by all four variables', () => {
        for (const q of queriesOf(d).filter((x) => x.kind !== 'variable')) {
          assert.match(q.rawSql, /\$__timeFilter\(/, q.name);
          if (q.rawSql.includes('.flows')) for (const v of ['cluster', 'namespace', 'app', 'fence']) assert.ok(variablesUsed(q.rawSql).includes(v), `${q.name}: $${v}`);
        }
      });

      it('gives each panel its own id and a place on the 24-column grid, without overlaps', () => {
        const panels = panelsOf(d);
        assert.equal(new Set(panels.map((p) => p.id)).size, panels.length);
        const cells = new Set<string>();
        for (const p of panels) {
          const g = p.gridPos!;
          assert.ok(g.x + g.w <= 24, p.title);
          for (let x = g.x; x < g.x + g.w; x++) {
            for (let y = g.y; y < g.y + g.h; y++) {
              assert.ok(!cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`);
              cells.add(`${x},${y}`);
            }
          }
        }
      });
    });
  }

  it('takes the SRv6 drop reasons by name from the datapath ABI: the SRH checks and the SR programs\' own, no counter', () => {
    assert.deepEqual(SRV6_DROP_REASONS, [
      'SRH_BAD_LAST_ENTRY', 'SRH_BAD_SEGLEFT', 'SRH_BAD_TLV', 'SRH_MALFORMED', 'SRV6_BAD_INNER', 'SRV6_HOP_LIMIT', 'SRV6_NO_ROUTE',
      'SRV6_NO_SEGLIST', 'SRV6_NO_SRH', 'SRV6_NO_TENANT_ROUTE', 'SRV6_UNKNOWN_SID',
    ]);
    const panel = panelsOf(fromFile('datapath-health.json')).find((p) => p.title === 'SRv6 drops by reason');
    for (const n of SRV6_DROP_REASONS) assert.ok(String(panel?.targets?.[0]?.rawSql).includes(`'${n}'`), n);
  });

  it('feeds the Geomap network layer a nodes frame with coordinates and an edges frame', () => {
    const map = panelsOf(fromFile('geographic-paths.json')).find((p) => p.type === 'geomap')!;
    const layers = (map.options as { layers: Array<{ type: string; location: { mode: string; latitude: string; longitude: string } }> }).layers;
    assert.equal(layers[0].type, 'network');
    assert.deepEqual(layers[0].location, { mode: 'coords', latitude: 'latitude', longitude: 'longitude' });
    assert.deepEqual(map.targets?.map((t) => t.refId), ['nodes', 'edges']);
    const [nodes, edges] = (map.targets ?? []).map((t) => String(t.rawSql));
    for (const col of ['id', 'latitude', 'longitude', 'bytes', 'verdict_level']) assert.match(nodes, new RegExp(`AS ${col}\\b`));
    for (const col of ['id', 'source', 'target', 'bytes', 'verdict_level']) assert.match(edges, new RegExp(`AS ${col}\\b`));
  });

  it('provisions the datasource the dashboards name, from environment variables, and the dashboards folder', () => {
    const ds = parse(readFileSync(join(dir, 'provisioning', 'datasources', 'clickhouse.yaml'), 'utf8')) as {
      apiVersion: number;
      datasources: Array<{ uid: string; type: string; jsonData: Record<string, string>; secureJsonData: Record<string, string> }>;
    };
    assert.equal(ds.apiVersion, 1);
    const [source] = ds.datasources;
    assert.equal(source.uid, DATASOURCE.uid);
    assert.equal(source.type, DATASOURCE.type);
    for (const key of ['host', 'port', 'protocol', 'username']) assert.match(source.jsonData[key], /^\$\{CILLION_CLICKHOUSE_[A-Z]+\}$/, key);
    assert.match(source.secureJsonData.password, /^\$\{CILLION_CLICKHOUSE_PASSWORD\}$/);
    const dash = parse(readFileSync(join(dir, 'provisioning', 'dashboards', 'cillion.yaml'), 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> };
    assert.equal(dash.providers[0].type, 'file');
    assert.ok(dash.providers[0].options.path.startsWith('/'));
  });
});
