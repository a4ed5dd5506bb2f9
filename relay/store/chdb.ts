// One @clickhouse/client for both backends: in-process chdb on a data directory (through the
// client's `connection` hook, which chdb implements) or a ClickHouse server by URL. The SQL
// above this file is the same for both.
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions, type ClickHouseSettings } from '@clickhouse/client';
import { Readable } from 'node:stream';
import { createChdbConnection } from 'chdb/connection';
import { drainPending, Session } from 'chdb';

/** Rows already serialised, one per line, sent as the body of one INSERT. */
export interface RawInsert {
  table: string;
  columns: readonly string[];
  format: 'JSONCompactEachRow' | 'JSONEachRow';
  body: Buffer;
  settings: Record<string, string | number>;
}

export interface ClickHouseHandle {
  client: ClickHouseClient;
  embedded: boolean;
  /**
   * The flows insert: the body goes to the engine as bytes. Embedded, the client's hook
   * would turn it into text, prefix SET statements and parse it as one long SQL string;
   * chdb's own raw insert skips all of that (bench/relay.ts compares the two).
   */
  insertRaw(p: RawInsert): Promise<void>;
  /**
   * Stops, in the engine, every running query whose log_comment setting is `tag`. Embedded,
   * an aborted call only stops waiting (chdb's C interface has no interrupt), so this runs
   * KILL QUERY from a second connection to the same data directory: a query on the first
   * is busy until the engine lets go of it.
   */
  kill(tag: string): Promise<void>;
  close(): Promise<void>;
}

const TAG = /^[A-Za-z0-9_-]{1,64}$/;

function killStatement(tag: string): string {
  if (!TAG.test(tag)) throw new Error(`query tag ${JSON.stringify(tag)} is not plain`);
  // ASYNC: KILL ... SYNC waits for the victim to finish, which chdb's worker may never report.
  return `KILL QUERY WHERE Settings['log_comment'] = '${tag}' ASYNC`;
}

export function openClickHouse(opts: { dataDir?: string; url?: string }): ClickHouseHandle {
  if ((opts.dataDir === undefined) === (opts.url === undefined)) {
    throw new Error('the flow store needs exactly one of dataDir and url');
  }
  if (opts.url !== undefined) {
    const client = createClient({ url: opts.url });
    return {
      client,
      embedded: false,
      insertRaw: async (p) => {
        await client.insert({
          table: p.table,
          columns: [...p.columns] as [string, ...string[]],
          values: Readable.from([p.body]),
          format: p.format,
          clickhouse_settings: p.settings as ClickHouseSettings,
        });
      },
      kill: async (tag) => {
        await client.command({ query: killStatement(tag) });
      },
      close: () => client.close(),
    };
  }
  const chdb = createChdbConnection({ path: opts.dataDir });
  // chdb types the hook against @clickhouse/client-common 1.23.0, the client bundles its own
  // copy of the same contract (1.23.1, a longer settings list), so the types differ only in
  // which settings they name.
  const client = createClient({ connection: chdb as unknown as ClickHouseClientConfigOptions['connection'] });
  // Opened now: opening a connection while a query runs waits on that query.
  const control = new Session(opts.dataDir);
  return {
    client,
    embedded: true,
    insertRaw: async (p) => {
      await chdb.chdb.rawInsert({ table: p.table, columns: p.columns, values: p.body, format: p.format, settings: p.settings });
    },
    kill: async (tag) => {
      await control.queryAsync(killStatement(tag));
    },
    // chdb binds one data directory per process; the next open (maybe of another
    // directory) may only start once the engine has really let go of this one.
    close: async () => {
      await client.close();
      control.close();
      await drainPending();
    },
  };
}
