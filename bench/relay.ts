// The relay part of npm run bench (bench/run.ts): flows per second through what the relay
// does with each collector batch (decode the FlowBatch off the wire, give every flow its
// geofence verdict, store the batch in the embedded chdb), against each stage alone, so the
// ratios show where the time goes. In process: the gRPC transport is not part of it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateGeofence } from '../operator/resources/geofence';
import { FlowBatch } from '../proto/gen/export/v1/export';
import type { Flow } from '../proto/gen/flow/flow';
import { FlowJudge } from '../geofence/judge';
import { EmbeddedPathService } from '../operator/controlplane/pathservice';
import { describePath } from '../paths/describe';
import { EmbeddedAuthority } from '../paths/embedded';
import { parseIA } from '../scion/isdas';
import { encodeScionPathBytes } from '../scion/path/raw';
import { openStore, type FlowStore } from '../relay/store/store';
import { makeCorpus } from '../test/unit/relay/store/corpus';
import { fmt, median, type Result } from './report';

const TARGET_FLOWS_PER_S = 300_000;
/** Flows per collector batch, as the collector's exporter sends them at load. */
const BATCH = 5000;
const BATCHES = 4;
const ROUNDS = 3;

const control = EmbeddedPathService.fromFile(join(__dirname, '..', 'examples', 'topology.yaml'));

/**
 * The corpus with real paths: each flow with a path gets one of the example's paths from
 * Zurich to Frankfurt, raw hop fields included, so judging it means checking them.
 */
function withRealPaths(flows: Flow[]): Flow[] {
  const paths = control.pathsSync(parseIA('64-2:0:20'), parseIA('65-2:0:20')).map((cp) => ({ ...describePath(cp, 0), raw: Buffer.from(encodeScionPathBytes(cp.path)) }));
  return flows.map((f, i) => (f.scionPath ? { ...f, scionPath: paths[i % paths.length] } : f));
}

/** Fences that select the corpus's workloads, so that every flow is checked against one. */
function judge(): FlowJudge {
  const j = new FlowJudge(undefined, { paths: new EmbeddedAuthority(control) });
  const fences = [
    { name: 'shop-eu', ns: 'shop', allow: { countries: ['EU', 'CH'] } },
    { name: 'payments-ch', ns: 'payments', allow: { countries: ['CH'] } },
  ];
  for (const f of fences) {
    const v = validateGeofence({
      apiVersion: 'cillion.io/v1alpha1',
      kind: 'Geofence',
      metadata: { name: f.name },
      spec: { workloadSelector: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': f.ns } } }, allow: f.allow, mode: 'enforce' },
    });
    if (!v.ok) throw new Error(`bench fence ${f.name}: ${JSON.stringify(v.problems)}`);
    j.engine.upsert(v.value);
  }
  return j;
}

/**
 * Runs `step` on batch after batch for about `seconds` (at least twice); flows per second,
 * `batches` batches per step.
 */
async function rate(seconds: number, step: (k: number) => unknown, batches = 1): Promise<number> {
  await step(0);
  const start = performance.now();
  let k = 1;
  do await step(k++);
  while (k < 3 || performance.now() - start < seconds * 1000);
  return ((k - 1) * BATCH * batches) / ((performance.now() - start) / 1000);
}

export async function relayBench(seconds = 15): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'cillion-bench-relay-'));
  let store: FlowStore | undefined;
  try {
    const corpus = withRealPaths(makeCorpus(BATCH * BATCHES, 7, Date.now() - 3_600_000));
    const wire = Array.from({ length: BATCHES }, (_, k) =>
      FlowBatch.encode(FlowBatch.fromPartial({ nodeName: 'node-a', clusterName: 'bench', sessionId: 'wire', sequence: BigInt(k + 1), flows: corpus.slice(k * BATCH, (k + 1) * BATCH) })).finish());
    const j = judge();
    store = await openStore({ dataDir: join(dir, 'store') });
    const s = store;
    let seq = 0n;

    const decoded = (k: number): Flow[] => FlowBatch.decode(wire[k % BATCHES]).flows;
    const ingestOnly = await rate(2, (k) => decoded(k));
    const judged = Array.from({ length: BATCHES }, (_, k) => decoded(k));
    const geofenceOnly = await rate(2, (k) => {
      for (const f of judged[k % BATCHES]) j.judge(f);
    });
    const storeOnly = (k: number) => s.insertBatch({ sessionId: 'store-only', sequence: ++seq, nodeName: 'node-a', flows: judged[k % BATCHES] });
    const full = async (k: number, session = 'relay') => {
      const b = FlowBatch.decode(wire[k % BATCHES]);
      for (const f of b.flows) j.judge(f);
      await s.insertBatch({ sessionId: session, sequence: ++seq, nodeName: b.nodeName, flows: b.flows });
    };
    // Two collectors at once: one batch's JavaScript runs while chdb parses the other's.
    const two = (k: number) => Promise.all([full(2 * k, 'relay-a'), full(2 * k + 1, 'relay-b')]);
    // Rounds interleaved: the store grows and merges in the background as the run goes on,
    // which must not favour whichever variant runs first.
    const rates = { store: [] as number[], full: [] as number[], two: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      rates.store.push(await rate(seconds / ROUNDS, storeOnly));
      rates.full.push(await rate(seconds / ROUNDS, full));
      rates.two.push(await rate(seconds / ROUNDS, two, 2));
    }
    const [storeAlone, through, twoAtOnce] = [median(rates.store), median(rates.full), median(rates.two)];
    j.close();
    return {
      what: 'relay: ingest (FlowBatch decode) → geofence → store (embedded chdb), batches of 5,000, vs each stage alone',
      figures: `${fmt(through)} flows/s through all three (two collectors at once: ${fmt(twoAtOnce)}/s); store insert alone ${fmt(storeAlone)}/s; geofence (hop fields checked) alone ${fmt(geofenceOnly)}/s; decode alone ${fmt(ingestOnly)}/s`,
      ratio: `${fmt(through / storeAlone, 2)} of store alone; best ${fmt(Math.max(through, twoAtOnce) / TARGET_FLOWS_PER_S, 3)}x target`,
      target: 'at least 300,000 flows/s',
      met: Math.max(through, twoAtOnce) >= TARGET_FLOWS_PER_S,
    };
  } finally {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
