import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Session } from 'chdb';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../../../relay/store/store';
import { schemaStatements } from '../../../../relay/store/schema';
import { makeCorpus } from './corpus';

interface Seen {
  query: string;
  params: URLSearchParams;
  body: Buffer;
}

/**
 * The store by URL against a stand-in for a ClickHouse server on loopback (none is installed
 * here): what it sends for a batch, then the body loaded into chdb as the server would.
 */
describe('relay/store insert by URL (HTTP body)', function () {
  this.timeout(30_000);
  let server: Server;
  let url: string;
  const seen: Seen[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const params = new URL(req.url ?? '/', 'http://x').searchParams;
        const body = Buffer.concat(chunks);
        const query = params.get('query') ?? body.toString('latin1');
        seen.push({ query, params, body });
        res.setHeader('X-ClickHouse-Summary', '{}');
        res.end('');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('posts each batch as one Native body with the deduplication token, which loads as the flows it holds', async () => {
    const store = await openStore({ url, log: () => {} });
    const flows = makeCorpus(50).map((f) => ({ ...f, nodeName: 'n' }));
    seen.length = 0;
    try {
      await store.insertBatch({ sessionId: 's', sequence: 3n, nodeName: 'n', flows });
    } finally {
      await store.close();
    }
    const inserts = seen.filter((s) => /FORMAT Native/.test(s.query));
    assert.deepEqual(inserts.map((s) => s.query.trim()), [
      'INSERT INTO cillion.workloads FORMAT Native',
      'INSERT INTO cillion.path_headers FORMAT Native',
      'INSERT INTO cillion.paths FORMAT Native',
      'INSERT INTO cillion.flows FORMAT Native',
    ]);
    const flowsInsert = inserts[3];
    assert.equal(flowsInsert.params.get('insert_deduplication_token'), JSON.stringify(['n', 's', '3']));
    assert.equal(flowsInsert.params.get('insert_distributed_sync'), '1');

    // The body is what a server would parse: load it into a real engine and count.
    const dir = mkdtempSync(join(tmpdir(), 'cillion-url-insert-'));
    const session = new Session(dir);
    try {
      for (const q of schemaStatements({ database: 'cillion', ttlDays: 7, rollupTtlDays: 7 })) await session.queryAsync(q);
      const file = join(dir, 'body.native');
      writeFileSync(file, flowsInsert.body);
      await session.queryAsync(`INSERT INTO cillion.flows SELECT * FROM file('${file}', 'Native')`);
      const back = (await session.queryAsync('SELECT toString(uuid) FROM cillion.flows ORDER BY batch_index', { format: 'JSONCompactEachRow' })).text();
      assert.deepEqual(back.trim().split('\n').map((l) => JSON.parse(l)[0]), flows.map((f) => f.uuid));
    } finally {
      session.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
