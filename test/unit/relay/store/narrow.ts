// The store's own schema and writer for tests and benches that seed a store through a
// ClickHouse handle at a fixed arrival time: the same DDL (schema.ts) and the same Native
// blocks the relay inserts (dimension_blocks.ts, flow_block.ts).
import type { ClickHouseClient } from '@clickhouse/client';
import type { Endpoint, Flow, ScionPath } from '../../../../proto/gen/flow/flow';
import type { ClickHouseHandle } from '../../../../relay/store/chdb';
import { pathHeadersBlock, pathsBlock, workloadsBlock } from '../../../../relay/store/dimension_blocks';
import { flowBlock } from '../../../../relay/store/flow_block';
import { judgedFromFlows } from '../../../../relay/store/from_flows';
import type { StoredEndpoint, StoredPath } from '../../../../relay/store/judged';
import { storedEndpoint, storedPath } from '../../../../relay/store/keys';
import { schemaStatements } from '../../../../relay/store/schema';

/** Flows seeded at a fixed arrival time must outlive the TTL, and the TTL must stay within DateTime (2106). */
const TTL_DAYS = 3650;

export function narrowSchema(db: string): string[] {
  return schemaStatements({ database: db, ttlDays: TTL_DAYS, rollupTtlDays: TTL_DAYS });
}

export async function createNarrowStore(client: ClickHouseClient, db: string): Promise<void> {
  for (const stmt of narrowSchema(db)) await client.command({ query: stmt });
}

export const endpointKey = (e: Endpoint): bigint => storedEndpoint(e).key;
export const pathKey = (p: ScionPath): bigint => storedPath(p).key;

export interface NarrowBatch {
  sessionId: string;
  sequence: bigint;
  nodeName: string;
  /** Unix seconds. */
  receivedAt: number;
}

/** One batch of flows with its workloads, path headers and paths, each table in one insert. */
export async function insertNarrow(ch: ClickHouseHandle, db: string, flows: Flow[], b: NarrowBatch): Promise<void> {
  const judged = judgedFromFlows({ ...b, flows });
  const endpoints = new Map<bigint, StoredEndpoint>();
  for (const e of judged.endpoints) if (e) endpoints.set(e.key, e);
  const headers = new Map<bigint, StoredPath>();
  const byFingerprint = new Map<string, ScionPath>();
  for (const p of judged.paths) {
    if (!p) continue;
    headers.set(p.key, p);
    if (p.path.fingerprint !== '') byFingerprint.set(p.path.fingerprint.toLowerCase(), p.path);
  }
  // Each batch its own dedup token, as the store gives it.
  const token = JSON.stringify([b.nodeName, b.sessionId, b.sequence.toString()]);
  const insert = (table: string, body: Buffer) => ch.insertNative({ table: `${db}.${table}`, body, settings: { insert_deduplication_token: token } });
  if (endpoints.size > 0) await insert('workloads', workloadsBlock([...endpoints.values()], b.receivedAt));
  if (headers.size > 0) await insert('path_headers', pathHeadersBlock([...headers.values()], b.receivedAt));
  if (byFingerprint.size > 0) await insert('paths', pathsBlock([...byFingerprint.values()], b.receivedAt));
  if (flows.length > 0) await insert('flows', flowBlock(judged, b.receivedAt));
}

/**
 * Flows as collectors would send them: one batch per node and `batchSize` flows, each
 * node's session numbering its batches from 1. Every flow's node_name is its batch's.
 */
export async function insertCorpus(ch: ClickHouseHandle, db: string, flows: Flow[], batchSize = 1000, receivedAt = 1_800_000_000): Promise<void> {
  const byNode = new Map<string, Flow[]>();
  for (const f of flows) byNode.set(f.nodeName, [...(byNode.get(f.nodeName) ?? []), f]);
  for (const [nodeName, own] of byNode) {
    for (let at = 0; at < own.length; at += batchSize) {
      const batch = { sessionId: `session-${nodeName}`, sequence: BigInt(at / batchSize + 1), nodeName, receivedAt };
      await insertNarrow(ch, db, own.slice(at, at + batchSize), batch);
    }
  }
}
