// One @clickhouse/client for both backends: in-process chdb on a data directory (through the
// client's `connection` hook, which chdb implements) or a ClickHouse server by URL. The SQL
// above this file is the same for both.
import { createClient, type ClickHouseClient, type ClickHouseClientConfigOptions } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { drainPending } from 'chdb';

export interface ClickHouseHandle {
  client: ClickHouseClient;
  embedded: boolean;
  close(): Promise<void>;
}

export function openClickHouse(opts: { dataDir?: string; url?: string }): ClickHouseHandle {
  if ((opts.dataDir === undefined) === (opts.url === undefined)) {
    throw new Error('the flow store needs exactly one of dataDir and url');
  }
  if (opts.url !== undefined) {
    const client = createClient({ url: opts.url });
    return { client, embedded: false, close: () => client.close() };
  }
  // chdb types the hook against @clickhouse/client-common 1.23.0, the client bundles its own
  // copy of the same contract (1.23.1, a longer settings list), so the types differ only in
  // which settings they name.
  const connection = createChdbConnection({ path: opts.dataDir }) as unknown as ClickHouseClientConfigOptions['connection'];
  const client = createClient({ connection });
  return {
    client,
    embedded: true,
    // chdb binds one data directory per process; the next open (maybe of another
    // directory) may only start once the engine has really let go of this one.
    close: async () => {
      await client.close();
      await drainPending();
    },
  };
}
