// SQL straight at an embedded store's data directory, for what the FlowStore interface
// does not show (the store's tests).
import { openClickHouse } from '../../../../relay/store/chdb';

/** Rows of one query against the embedded store in `dataDir`, opened for it alone. */
export async function sql<T>(dataDir: string, query: string): Promise<T[]> {
  const ch = openClickHouse({ dataDir });
  try {
    return await (await ch.client.query({ query, format: 'JSONEachRow' })).json<T>();
  } finally {
    await ch.close();
  }
}
