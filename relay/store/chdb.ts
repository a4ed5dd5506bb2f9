// One @clickhouse/client for both backends: in-process chdb on a data directory (through the
// client's `connection` hook, which chdb implements) or a ClickHouse server by URL. The SQL
// above this file is the same for both.
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions, type ClickHouseSettings } from '@clickhouse/client';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createChdbConnection } from 'chdb/connection';
import { drainPending, Session } from 'chdb';

/** One Native block (native.ts) inserted as one statement. */
export interface NativeInsert {
  table: string;
  body: Buffer;
  settings: Record<string, string | number>;
}

export interface ClickHouseHandle {
  client: ClickHouseClient;
  embedded: boolean;
  /**
   * Inserts a Native block with settings for this statement only. Embedded, the block goes
   * through a file on /dev/shm (chdb's raw insert takes text formats only, and the client's
   * hook would make the body text and SET its settings for the whole session); the engine
   * reads it on its own thread, off the event loop. By URL, the block is the request body.
   */
  insertNative(p: NativeInsert): Promise<void>;
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

/** Where embedded inserts leave their block for the engine: memory when the host has it. */
const SCRATCH = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/** A ClickHouse string literal. */
function sqlString(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `SETTINGS k = v, ...` for one statement; values as SQL literals. */
export function settingsClause(settings: Record<string, string | number>): string {
  const items = Object.entries(settings).map(([k, v]) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(k)) throw new Error(`setting ${JSON.stringify(k)} is not a plain name`);
    return `${k} = ${typeof v === 'number' ? String(v) : sqlString(v)}`;
  });
  return items.length === 0 ? '' : `SETTINGS ${items.join(', ')}`;
}

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
      insertNative: async (p) => {
        // The client knows no Native format for insert; a raw body does the same.
        const result = await client.exec({
          query: `INSERT INTO ${p.table} FORMAT Native`,
          values: Readable.from([p.body]),
          clickhouse_settings: p.settings as ClickHouseSettings,
        });
        result.stream.resume();
        await finished(result.stream);
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
    insertNative: async (p) => {
      const file = join(SCRATCH, `cillion-insert-${process.pid}-${randomBytes(8).toString('hex')}.native`);
      // Written and removed synchronously: on /dev/shm that is a copy in memory, while an
      // asynchronous write takes a turn of the event loop per 512 KiB chunk, and under load
      // each turn waited behind batches being judged while the engine sat idle (the write
      // was half of every insert's time).
      writeFileSync(file, p.body);
      try {
        await chdb.chdb.queryAsync(`INSERT INTO ${p.table} ${settingsClause(p.settings)} SELECT * FROM file(${sqlString(file)}, 'Native')`);
      } finally {
        rmSync(file, { force: true });
      }
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
