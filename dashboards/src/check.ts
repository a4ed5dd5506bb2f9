// Runs every query of the dashboards against a flow store, with Grafana's and the plugin's
// macros expanded for a time range and a variable selection (All unless chosen), and prints
// one JSON line per query: its columns and types, how many rows, or the error. Run it
// against a store before pointing Grafana at it; the demo e2e runs it on the demo's stores.
// Several --data-dir are read as one, through the federation's tables (federate.ts), as
// Grafana reads several clusters' ClickHouse through deploy/clickhouse/federation.sql.
//   npx tsx dashboards/src/check.ts (--data-dir DIR... | --url URL) --from ISO --to ISO [--select app=a,b ...]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Dashboard } from '@grafana/schema';
import { openClickHouse } from '../../relay/store/chdb';
import { federateStores } from './federate';
import { DASHBOARDS } from './generate';
import { ALL, expandSql, type ExpandContext, type Variable } from './macros';
import { queriesOf } from './queries';

export interface QueryResult {
  dashboard: string;
  kind: string;
  name: string;
  refId: string;
  format: number;
  columns: Array<{ name: string; type: string }>;
  rows: number;
  /** The first row, for a look at it. */
  first?: unknown[];
  error?: string;
}

/** Grafana's $__interval: the range over the panel's data points (about 1000), at least a second. */
function intervalMs(from: Date, to: Date): number {
  return Math.max(1000, Math.round((to.getTime() - from.getTime()) / 1000));
}

export type RunSql = (sql: string) => Promise<{ columns: QueryResult['columns']; rows: unknown[][] }>;

export interface CheckOptions {
  from: Date;
  to: Date;
  /** Variable name -> chosen values; the others are All. */
  chosen?: Map<string, string[]>;
}

/** Every query of every dashboard, run in order (variables first, as Grafana does). */
export async function checkDashboards(run: RunSql, o: CheckOptions): Promise<QueryResult[]> {
  const out: QueryResult[] = [];
  for (const [file, d] of Object.entries(DASHBOARDS)) out.push(...(await checkDashboard(file, d, run, o)));
  return out;
}

/** Runs SQL through a @clickhouse/client, keeping column names and types. */
export function runner(client: ClickHouseClient): RunSql {
  return async (sql) => {
    const text = await (await client.query({ query: sql, format: 'JSONCompactEachRowWithNamesAndTypes' })).text();
    const lines = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown[]);
    const [names = [], types = []] = lines;
    return { columns: names.map((n, i) => ({ name: String(n), type: String(types[i]) })), rows: lines.slice(2) };
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string', multiple: true },
      url: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      select: { type: 'string', multiple: true },
    },
  });
  if (!values.from || !values.to) throw new Error('--from and --to are required');
  const chosen = new Map((values.select ?? []).map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1).split(',')]));
  const dirs = values['data-dir'] ?? [];
  const scratch = dirs.length > 1 ? mkdtempSync(join(tmpdir(), 'cillion-federate-')) : undefined;
  try {
    const dataDir = scratch ? await federateStores(dirs, scratch) : dirs[0];
    const ch = openClickHouse({ dataDir, url: values.url });
    try {
      const results = await checkDashboards(runner(ch.client), { from: new Date(values.from), to: new Date(values.to), chosen });
      for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
    } finally {
      await ch.close();
    }
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

async function checkDashboard(file: string, d: Dashboard, run: RunSql, o: CheckOptions): Promise<QueryResult[]> {
  const out: QueryResult[] = [];
  const variables: Record<string, Variable> = {};
  for (const v of d.templating?.list ?? []) {
    if (v.type === 'constant') variables[v.name] = { current: String(v.query) };
    else variables[v.name] = { current: o.chosen?.get(v.name) ?? ALL, options: [] };
  }
  const ctx: ExpandContext = { from: o.from, to: o.to, intervalMs: intervalMs(o.from, o.to), variables };
  for (const q of queriesOf(d)) {
    const result: QueryResult = { dashboard: file, kind: q.kind, name: q.name, refId: q.refId, format: q.format, columns: [], rows: 0 };
    try {
      const { columns, rows } = await run(expandSql(q.rawSql, ctx));
      result.columns = columns;
      result.rows = rows.length;
      if (rows.length > 0) result.first = rows[0];
      // A variable's options are what its query returned: what All stands for further on.
      if (q.kind === 'variable') variables[q.name].options = rows.map((r) => String(r[0]));
    } catch (e) {
      result.error = (e as Error).message;
    }
    out.push(result);
  }
  return out;
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
