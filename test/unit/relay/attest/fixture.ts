// Shared by the attestation tests: a real embedded store filled with the store corpus, a
// Geofence for the corpus' fence names, and an export of one selector into a directory.
import type { KeyObject } from 'node:crypto';
import { validateGeofence, type Geofence } from '../../../../resources/geofence';
import type { Flow } from '../../../../proto/gen/flow/flow';
import { exportAttestation, type ExportOptions } from '../../../../relay/attest/export';
import { draftAttestation } from '../../../../relay/attest/files';
import { keyId } from '../../../../relay/attest/keys';
import { renderReport } from '../../../../relay/attest/report';
import { signStatement } from '../../../../relay/attest/sign';
import type { Statement } from '../../../../relay/attest/statement';
import type { FlowStore } from '../../../../relay/store/store';
import { CORPUS_START_MS, makeCorpus } from '../store/corpus';

export { CORPUS_START_MS };
export const SELECTOR = 'app=ledger';

export function corpus(n: number): Flow[] {
  return makeCorpus(n, 3, CORPUS_START_MS);
}

export async function fill(store: FlowStore, flows: Flow[], batch = 5000): Promise<void> {
  for (let i = 0, seq = 1n; i < flows.length; i += batch, seq++) {
    await store.insertBatch({ sessionId: 'attest-test', sequence: seq, nodeName: 'node-a', flows: flows.slice(i, i + batch) });
  }
}

export function geofence(name: string, countries: string[]): Geofence {
  const v = validateGeofence({
    apiVersion: 'cillion.io/v1alpha1',
    kind: 'Geofence',
    metadata: { name },
    spec: { workloadSelector: { podSelector: { matchLabels: { app: 'ledger' } } }, allow: { countries }, mode: 'audit' },
  });
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  return v.value;
}

export const FENCES = new Map([['eu-only', geofence('eu-only', ['EU', 'CH'])], ['dach', geofence('dach', ['DE', 'AT', 'CH'])]]);

export function options(over: Partial<ExportOptions> = {}): ExportOptions {
  return {
    selector: SELECTOR,
    since: new Date(CORPUS_START_MS + 1000),
    until: new Date(CORPUS_START_MS + 9000),
    fences: (n) => FENCES.get(n),
    relay: { name: 'test-relay', version: '0.0.0' },
    store: { kind: 'chdb', location: '/tmp/x', database: 'cillion' },
    now: new Date(CORPUS_START_MS + 60_000),
    ...over,
  };
}

/** Exports into `dir` and signs with `key`, as `cillion attest export` does. */
export async function exportTo(store: FlowStore, dir: string, key: KeyObject, over: Partial<ExportOptions> = {}): Promise<Statement> {
  const draft = await draftAttestation(dir);
  try {
    const { statement } = await exportAttestation(store, options(over), draft.sink);
    return await draft.commit(signStatement(statement, [key]), renderReport(statement, { keyid: keyId(key) }), [key]);
  } finally {
    await draft.abort();
  }
}
