// Several embedded stores read as one, the way deploy/clickhouse/federation.sql reads several
// clusters' ClickHouse: the tables the dashboards read, copied from each store into a
// database of their own in a scratch embedded store, and in `cillion` the federation's own
// table definitions, with a Merge engine over those databases standing in for the
// Distributed one (an embedded engine is no server, so it cannot be a shard). chdb opens one
// data directory per process: each store is exported by a process of its own.
//   npx tsx dashboards/src/federate.ts export DATA_DIR OUT_DIR
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openClickHouse } from '../../relay/store/chdb';
import { schemaStatements } from '../../relay/store/schema';
import { FEDERATED_TABLES, FEDERATION_CLUSTER, federationDDL } from './federation_ddl';

const DB = 'cillion';

const nativeFile = (dir: string, table: string): string => join(dir, `${table}.native`);

/** The federation's statements, reading the same tables of `databases` in this one engine. */
export function federationOverDatabases(databases: readonly string[]): string[] {
  const distributed = new RegExp(`ENGINE = Distributed\\(${FEDERATION_CLUSTER}, ${DB}, (\\w+)_local\\)`);
  return federationDDL()
    .split('\n')
    .filter((l) => !l.startsWith('--'))
    .join('\n')
    .split(';\n')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => s.replace(distributed, (_, t: string) => `ENGINE = Merge(REGEXP('^(${databases.join('|')})$'), '^${t}$')`));
}

/** Writes the tables the dashboards read, from the store in `dataDir`, as Native files in `out`. */
export async function exportStore(dataDir: string, out: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  const ch = openClickHouse({ dataDir });
  try {
    for (const t of FEDERATED_TABLES) {
      await ch.client.command({ query: `INSERT INTO FUNCTION file('${nativeFile(out, t)}', 'Native') SELECT * FROM ${DB}.${t}` });
    }
  } finally {
    await ch.close();
  }
}

function exportOnce(dataDir: string, out: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...process.execArgv, __filename, 'export', dataDir, out], { maxBuffer: 16 << 20 }, (err, _so, se) => {
      if (!err) return resolve(undefined);
      const how = err.signal ? `signal ${err.signal}` : `exit code ${String(err.code)}`;
      resolve(`exporting ${dataDir}: ${how}${se ? `: ${se.trim()}` : ', nothing on standard error'}`);
    });
  });
}

/**
 * Once more after a failure that said nothing: under load the embedded engine's process was
 * seen to end with exit code 1 and no message (once in a whole test run); the first failure
 * is still said on standard error.
 */
async function exportInChild(dataDir: string, out: string): Promise<void> {
  const first = await exportOnce(dataDir, out);
  if (first === undefined) return;
  if (!first.endsWith('nothing on standard error')) throw new Error(first);
  process.stderr.write(`${first}; trying once more\n`);
  rmSync(out, { recursive: true, force: true });
  const second = await exportOnce(dataDir, out);
  if (second !== undefined) throw new Error(`${first}; again: ${second}`);
}

/**
 * Builds in `scratch` one embedded store whose `cillion` tables read all of `dataDirs`' flows,
 * paths and collector counters, each store in its own database (store_0, store_1, ...).
 * Returns the data directory to open.
 */
export async function federateStores(dataDirs: readonly string[], scratch: string): Promise<string> {
  const databases = dataDirs.map((_, i) => `store_${i}`);
  for (const [i, d] of dataDirs.entries()) await exportInChild(d, join(scratch, 'export', databases[i]));
  const dataDir = join(scratch, 'store');
  const ch = openClickHouse({ dataDir });
  try {
    for (const db of databases) {
      for (const s of schemaStatements({ database: db, ttlDays: 7, rollupTtlDays: 90 })) await ch.client.command({ query: s });
      for (const t of FEDERATED_TABLES) {
        await ch.client.command({ query: `INSERT INTO ${db}.${t} SELECT * FROM file('${nativeFile(join(scratch, 'export', db), t)}', 'Native')` });
      }
    }
    for (const s of federationOverDatabases(databases)) await ch.client.command({ query: s });
  } finally {
    await ch.close();
  }
  return dataDir;
}

if (require.main === module) {
  const [verb, dataDir, out] = process.argv.slice(2);
  if (verb !== 'export' || !dataDir || !out) {
    process.stderr.write('usage: federate.ts export DATA_DIR OUT_DIR\n');
    process.exitCode = 2;
  } else {
    exportStore(dataDir, out).catch((e: unknown) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exitCode = 1;
    });
  }
}
