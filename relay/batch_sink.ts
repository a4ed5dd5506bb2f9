// Where the export service hands each batch: screened, judged, published live, then stored
// (or, without a store, its position remembered), and tallied in metrics and the node book.
import type { BatchSink, Rejections } from './export/ingest';
import { sessionKey } from './export/ingest';
import type { GroupCommit, Committable } from './export/group_commit';
import { judgeColumns } from './export/judge_columns';
import { liveBatch } from './export/live_columns';
import { KnownEndpoints } from './export/endpoint_cache';
import { RebuiltPaths } from './export/path_cache';
import { PathChecks, screenColumns, uuidBytes, uuidKeys, type UuidWindow } from './export/screen';
import { tallyStored } from './export/tally';
import { storedCount, type JudgedBatch } from './store/judged';
import type { FlowStore } from './store/store';
import type { Breaches } from './breaches';
import type { RelayLimits } from './limits';
import type { RelayMetrics } from './metrics';
import type { FlowJudge } from '../geofence/judge';
import type { FlowHub } from '../observer/hub';
import type { TimeMerger } from '../observer/merge';
import type { NodeBook } from '../observer/nodes';
import { nowNs } from '../observer/time';

export interface BatchSinkDeps {
  store: FlowStore | undefined;
  commits: GroupCommit<JudgedBatch & Committable> | undefined;
  limits: RelayLimits;
  uuids: UuidWindow;
  judge: FlowJudge;
  hub: FlowHub;
  merger: TimeMerger;
  metrics: RelayMetrics;
  breaches: Breaches;
  nodes: NodeBook;
  log: (message: string) => void;
}

export interface RelaySink {
  sink: BatchSink;
  /** Batches the store refused; the collector sends them again, so no data is lost. */
  storeErrors(): bigint;
}

export function relaySink(d: BatchSinkDeps): RelaySink {
  const { store, commits, limits, uuids, judge, hub, merger, metrics, breaches, nodes, log } = d;
  const known = { paths: new RebuiltPaths(), endpoints: new KnownEndpoints() };
  const pathChecks = new PathChecks(limits);
  // Without a store: (node, session) -> position, keyed as ingest keys its sessions (sessionKey).
  const positions = new Map<string, bigint>();
  let batchStoreErrors = 0n;
  const sink: BatchSink = {
    position: async (node, sessionId) => (store ? store.position(node, sessionId) : (positions.get(sessionKey(node, sessionId)) ?? 0n)),
    accept: async (b, incoming) => {
      const cols = incoming.columns;
      const screened = screenColumns(cols, b.nodeName, limits, uuids, pathChecks);
      await judge.preparePaths(cols.paths);
      const verdicts = judgeColumns(cols, judge, known);
      const judged: JudgedBatch = { nodeName: b.nodeName, sessionId: b.sessionId, sequence: b.sequence, columns: cols, keep: screened.keep, ...verdicts };
      // Live before stored: viewers see a flow once it is judged, whatever the store's lag.
      const live = liveBatch(judged);
      hub.expect(live);
      merger.add(live);
      const store = async (): Promise<Rejections> => {
        try {
          if (commits) await commits.add({ ...judged, flows: storedCount(judged) });
          else positions.set(sessionKey(b.nodeName, b.sessionId), b.sequence);
        } catch (e) {
          uuids.forget(screened.keys);
          metrics.storeError();
          batchStoreErrors++;
          const err = e as Error & { detail?: string };
          if (err.detail !== undefined) {
            // The engine's own words stay here; the collector hears only the error id.
            metrics.engineError('insert');
            log(`${err.message}: ${err.detail}`);
          }
          throw e;
        } finally {
          hub.settle(live);
        }
        const rejected = screened.rejected + incoming.refused;
        const reason = incoming.reason || screened.reason;
        if (rejected > 0) {
          metrics.rejected('duplicate', screened.duplicates);
          metrics.rejected('invalid', rejected - screened.duplicates);
          if (rejected > screened.duplicates) breaches.record('flow_invalid', reason, b.nodeName);
          if (screened.duplicates > 0) breaches.record('duplicate_uuid', `${screened.duplicates} flows of batch ${b.sequence} carried uuids already stored`, b.nodeName);
        }
        const tally = tallyStored(judged);
        for (const [verdict, n] of tally.verdicts) metrics.flow(verdict, n);
        for (const [g, n] of tally.geofences) metrics.geofence(g.name, g.verdict, n);
        for (const [t, n] of tally.pathTypes) metrics.pathType(t, n);
        for (const [h, n] of tally.srv6Hmac) metrics.srv6HmacStatus(h, n);
        metrics.stored(tally.stored, tally.newestNs === undefined ? undefined : Number(nowNs() - tally.newestNs) / 1e9);
        if (verdicts.fingerprintMismatches > 0) metrics.fingerprintMismatches(b.nodeName, verdicts.fingerprintMismatches);
        nodes.stored(b.nodeName, tally.stored);
        return { rejected, reason };
      };
      // Taken now; stored with whatever else waits for the next insert.
      return { stored: store() };
    },
    takeover: async (node, sessionId, after, previous) => {
      if (store) await store.insertTakeover({ nodeName: node, sessionId, afterSequence: after, previousRelay: previous, takenAt: Date.now() });
      else positions.set(sessionKey(node, sessionId), after);
    },
    retract: async (node, sessionId, after, through) => {
      if (!store) {
        positions.set(sessionKey(node, sessionId), after);
        return;
      }
      // A genuine retraction follows its failover within minutes; older batches are history.
      const gone = await store.retract(node, sessionId, after, through, { maxUuids: limits.uuidWindow, receivedSinceMs: Date.now() - limits.maxRetractAgeMs });
      // The deleted flows may come here again (from a relay that takes the session back).
      const uuidKey = uuidKeys();
      uuids.forget(gone.uuids.map((u) => uuidKey(node, uuidBytes(u))));
      metrics.retractedFlows(Number(gone.flows));
      if (gone.flows > 0n) log(`export: deleted ${gone.flows} flows of node ${node} session ${sessionId} batches (${after}, ${gone.through}]: another relay stores them`);
      if (gone.kept > 0n) {
        breaches.record('retraction_age', `node ${node} retracted session ${sessionId} batches (${after}, ${gone.through}]; ${gone.kept} flows and batch marks received more than ${limits.maxRetractAgeMs} ms ago are kept`, node);
      }
    },
  };
  return { sink, storeErrors: () => batchStoreErrors };
}
