// The attest part of npm run bench (bench/run.ts): attestation export, verify and one
// flow's inclusion proof over 1,000,000 flows (CILLION_BENCH_ATTEST_FLOWS for a smaller
// run), beside the figures before the proof index and the streamed export (1M flows:
// export 61 s, verify 36 s, proof 10.9 s). The flows go into a fresh embedded store; then,
// each against a baseline measured in the same run:
// - export (store columns -> canonical evidence + Merkle tree + proof index + tally +
//   signature, checked and renamed into place) against the same export through Flow
//   objects (a store seen only through query(), as export read before; each way twice, in
//   turn, the faster run counting) and against reading the same flows out of the store, as
//   Flows and as pages of columns;
// - verify (signature, predicate, evidence parse + Merkle + recomputed totals), in one
//   thread and in worker threads, against reading the evidence as a verifier must at
//   least (read the file, split lines, JSON.parse each line; one thread) and a bare
//   SHA-256 of the evidence file (all four twice, in turn, the faster run counting);
// - one flow's proof from the proof index, and checking that proof file against the
//   envelope alone (verify-proof).
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowFilter } from '../proto/gen/flow/flow';
import { exportAttestation, type EvidenceSource } from '../relay/attest/export';
import { draftAttestation, ENVELOPE_NAME, readEvidence } from '../relay/attest/files';
import { proofFile, verifyProof } from '../relay/attest/proof';
import { renderReport } from '../relay/attest/report';
import { signStatement } from '../relay/attest/sign';
import { EVIDENCE_NAME } from '../relay/attest/statement';
import { proveFromIndex, TREE_INDEX_NAME } from '../relay/attest/tree_index';
import { verifyAttestation } from '../relay/attest/verify';
import { openStore } from '../relay/store/store';
import { makeCorpus } from '../test/unit/relay/store/corpus';
import { fmt, type Result } from './report';

const START_MS = Date.UTC(2026, 10, 22, 12, 0, 0);
/** Every corpus flow has an app label, so this selects all of them. */
const SELECTOR = 'app';
const CORPUS_CHUNK = 50_000;
const BATCH = 10_000;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await fn();
  return [out, performance.now() - t];
}

/**
 * The least a verifier reading the evidence does, in one thread: read the file, cut it
 * into lines and JSON.parse each. Verify does this much and more (hash, prove canonical,
 * check, tally), so it is the floor the issue measures verify against.
 */
async function readEvidenceLines(path: string): Promise<number> {
  let n = 0;
  let rest = '';
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, encoding: 'utf8' })) {
    const lines = (rest + (chunk as string)).split('\n');
    rest = lines.pop() as string;
    for (const line of lines) n += JSON.parse(line) === null ? 0 : 1;
  }
  if (rest !== '') n += JSON.parse(rest) === null ? 0 : 1;
  return n;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

const rate = (n: number, ms: number): string => `${fmt(n / (ms / 1000))}/s`;

/** Before the proof index and the streamed export, on 1M flows (docs/attest.md). */
const BEFORE = { flows: 1_000_000, exportS: 61, verifyS: 36, proofS: 10.9 };
const before = (n: number, s: number): string => `before: ${fmt(s, 1)} s on ${fmt(BEFORE.flows)}${n === BEFORE.flows ? '' : ', so scale'}`;

/** The number of flows: CILLION_BENCH_ATTEST_FLOWS, default the 1,000,000. */
export function attestFlows(env = process.env.CILLION_BENCH_ATTEST_FLOWS): number {
  if (env === undefined || env === '') return 1_000_000;
  const n = Number(env);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`CILLION_BENCH_ATTEST_FLOWS="${env}" is not a positive integer`);
  return n;
}

export async function attestBench(total: number): Promise<Result[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cillion-attest-bench-'));
  const out = join(dir, 'out');
  const store = await openStore({ dataDir: join(dir, 'data') });
  try {
    process.stderr.write(`attest bench: storing ${fmt(total)} flows...\n`);
    let seq = 1n;
    for (let done = 0; done < total; done += CORPUS_CHUNK) {
      // Each chunk continues the previous one in time, so the window is one long run.
      const flows = makeCorpus(Math.min(CORPUS_CHUNK, total - done), 1 + done / CORPUS_CHUNK, START_MS + done * 7);
      for (let i = 0; i < flows.length; i += BATCH) await store.insertBatch({ sessionId: 'bench', sequence: seq++, nodeName: 'node-a', flows: flows.slice(i, i + BATCH) });
    }
    const since = new Date(START_MS - 1000);
    const until = new Date(START_MS + total * 7 + 60_000);

    process.stderr.write('attest bench: baseline read...\n');
    const [read, readMs] = await timed(async () => {
      let n = 0;
      for await (const f of store.query({ since, until, allow: [FlowFilter.fromPartial({ sourceLabel: [SELECTOR] })], deny: [], order: 'asc' })) n += f.uuid.length > 0 ? 1 : 0;
      return n;
    });

    // What export reads now: the same rows as pages of stored columns, no Flow per row.
    const [, pagesMs] = await timed(async () => {
      let n = 0;
      for await (const page of store.pages({ since, until, allow: [FlowFilter.fromPartial({ sourceLabel: [SELECTOR] })], deny: [], order: 'asc' })) {
        for (const b of page.blocks) n += b.rows;
      }
      return n;
    });

    const key = generateKeyPairSync('ed25519');
    const exportInto = (to: string, from: EvidenceSource) => async () => {
      const draft = await draftAttestation(to);
      try {
        const { statement } = await exportAttestation(
          from,
          { selector: SELECTOR, since, until, records: 'all', relay: { name: 'bench', version: '0' }, store: { kind: 'chdb', location: dir, database: 'cillion' }, now: new Date(START_MS) },
          draft.sink,
        );
        return await draft.commit(signStatement(statement, [key.privateKey]), renderReport(statement), [key.publicKey]);
      } finally {
        await draft.abort();
      }
    };
    // Twice each, in turn, the faster run of each counting: on a shared machine the load
    // changes from one minute to the next, and neither way should gain by its place.
    process.stderr.write('attest bench: export through Flow objects, from columns, and both again...\n');
    const viaFlows: EvidenceSource = { query: (q) => store.query(q) };
    // An export kept only for its time and statement, its directory removed at once (1M flows' evidence is 0.8 GB).
    const aside = async (from: EvidenceSource) => {
      const to = join(dir, 'aside');
      try {
        return await timed(exportInto(to, from));
      } finally {
        rmSync(to, { recursive: true, force: true });
      }
    };
    const [throughFlows, viaFlows1] = await aside(viaFlows);
    const [, export1] = await aside(store);
    const [, viaFlows2] = await aside(viaFlows);
    const [exported, export2] = await timed(exportInto(out, store));
    const exportMs = Math.min(export1, export2);
    const viaFlowsMs = Math.min(viaFlows1, viaFlows2);
    if (throughFlows.predicate.evidence.sha256 !== exported.predicate.evidence.sha256) throw new Error('the export from columns and the one through Flow objects differ');
    const evidencePath = join(out, EVIDENCE_NAME);
    const evidenceBytes = statSync(evidencePath).size;
    const envelopeBytes = statSync(join(out, ENVELOPE_NAME)).size;
    const indexBytes = statSync(join(out, TREE_INDEX_NAME)).size;

    process.stderr.write('attest bench: verify...\n');
    const verify = (workers: number) => async () => {
      const r = await verifyAttestation({ envelope: readFileSync(join(out, ENVELOPE_NAME)), keys: [key.publicKey], evidence: readEvidence(evidencePath), workers });
      if (!r.ok) throw new Error(`verify${workers ? ' in workers' : ''} failed: ${JSON.stringify(r.failures)}`);
      return r;
    };
    // As `cillion attest verify` does for large evidence: one worker thread per core checks and hashes lines while this one hashes the file.
    const workers = Math.min(availableParallelism(), 4);
    // The file hash, reading the evidence, verify here and in workers, twice each in turn, the faster run counting (as export above).
    const round = async () => [(await timed(() => sha256File(evidencePath)))[1], ...(await timed(() => readEvidenceLines(evidencePath))), (await timed(verify(0)))[1], (await timed(verify(workers)))[1]] as const;
    const [hash1, parsed, read1, verify1, workers1] = await round();
    const [hash2, , read2, verify2, workers2] = await round();
    const [hashMs, readLinesMs, verifyMs, workersMs] = [Math.min(hash1, hash2), Math.min(read1, read2), Math.min(verify1, verify2), Math.min(workers1, workers2)];
    const [proof, proofMs] = await timed(async () => proofFile(await proveFromIndex(join(out, TREE_INDEX_NAME), evidencePath, Math.floor(total / 2))));
    const [checked, checkMs] = await timed(() => verifyProof({ envelope: readFileSync(join(out, ENVELOPE_NAME)), keys: [key.publicKey], proof }));
    if (!checked.ok) throw new Error(`verify-proof failed: ${JSON.stringify(checked.failures)}`);

    const n = exported.predicate.totals.flows;
    if (n !== read || n !== total || n !== parsed) throw new Error(`exported ${n} of ${total} flows, read ${read}, parsed ${parsed} evidence lines`);
    return [
      {
        what: `attest export: ${fmt(n)} flows into signed evidence vs reading them from the store`,
        figures: `${fmt(exportMs / 1000, 1)} s (${rate(n, exportMs)}; ${before(n, BEFORE.exportS)}); through Flow objects as before ${fmt(viaFlowsMs / 1000, 1)} s; store read alone ${fmt(readMs / 1000, 1)} s as Flows, ${fmt(pagesMs / 1000, 1)} s as columns; evidence ${fmt(evidenceBytes / n)} B/flow, proof index ${fmt(indexBytes / n, 1)} B/flow, envelope ${fmt(envelopeBytes / 1e6, 1)} MB`,
        ratio: `${fmt(viaFlowsMs / exportMs, 2)}x faster than through Flows; ${fmt(exportMs / readMs, 2)}x store read`,
        target: 'reported',
        met: true,
      },
      {
        what: `attest verify with evidence: ${fmt(n)} flows vs reading the evidence (read, split lines, JSON.parse each; one thread)`,
        figures: `${fmt(verifyMs / 1000, 1)} s in one thread (${rate(n, verifyMs)}; ${before(n, BEFORE.verifyS)}), ${fmt(workersMs / 1000, 1)} s with ${workers} worker threads (${rate(n, workersMs)}); reading alone ${fmt(readLinesMs / 1000, 2)} s; SHA-256 alone ${fmt(hashMs / 1000, 2)} s`,
        ratio: `${fmt(Math.min(verifyMs, workersMs) / readLinesMs, 2)}x reading (one thread ${fmt(verifyMs / readLinesMs, 2)}x); ${fmt(Math.min(verifyMs, workersMs) / hashMs, 1)}x file hash`,
        target: 'at most reading (1x)',
        met: Math.min(verifyMs, workersMs) <= readLinesMs,
      },
      {
        what: `attest inclusion proof: one flow of ${fmt(n)} from the proof index, and verify-proof against the envelope alone`,
        figures: `prove ${fmt(proofMs, 1)} ms (${before(n, BEFORE.proofS)}); verify-proof ${fmt(checkMs, 0)} ms (parses the ${fmt(envelopeBytes / 1e6, 1)} MB envelope); ${proof.proof.length} hashes`,
        ratio: n === BEFORE.flows ? `${fmt((BEFORE.proofS * 1000) / proofMs, 0)}x faster than before` : `${fmt(proofMs, 1)} ms`,
        target: 'milliseconds',
        met: proofMs < 100,
      },
    ];
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
