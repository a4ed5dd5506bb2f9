// Checks an attestation: envelope, payload type, signature, statement and predicate types,
// the predicate's own arithmetic, and, given the evidence file, that the evidence is what
// the statement says (Merkle root, file hash, order, window, selector, and every total and
// list recomputed from the flows). Every failed check is reported by name; checking goes on
// past a failure where the later checks still mean something.
import { createHash, type KeyObject } from 'node:crypto';
import { parseLabelSelector } from '../../observer/filters/label_selector';
import { canonicalJson } from './canonical_json';
import { EnvelopeError, IN_TOTO_PAYLOAD_TYPE, parseEnvelope, verifyEnvelope } from './dsse';
import { keyId } from './keys';
import { LineChecker, LineRules, MAX_LINE_FAILURES, ORDER_MESSAGE, type CheckedRun, type LineFailure, type ParsedLine } from './line_checker';
import { LineCheckerPool } from './line_pool';
import { MerkleAccumulator } from './merkle';
import { srv6EntryProblem, type Srv6Entry } from './evidence_row';
import { PREDICATE_TYPE, PredicateTally, entryOf, isSrv6Path, type Counts, type PathTable, type AttestationPredicate } from './predicate';
import { EVIDENCE_NAME, STATEMENT_TYPE, type Statement } from './statement';

export interface Failure {
  /** Stable name of the check, e.g. "signature", "evidence.merkleRoot". */
  check: string;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  failures: Failure[];
  /** The first trusted key that signed. */
  keyid?: string;
  /** Every distinct trusted key that signed. */
  keyids: string[];
  statement?: Statement;
  /** Evidence lines read, when evidence was given. */
  evidenceFlows?: number;
}

export interface VerifyInput {
  envelope: string | Buffer;
  keys: KeyObject[];
  /** How many distinct keys of `keys` must have signed; default 1. */
  threshold?: number;
  /**
   * Worker threads that parse and tally the evidence lines while this thread reads and
   * hashes; 0 (the default) checks them here. Worth it for large evidence: a worker costs
   * a start-up.
   */
  workers?: number;
  /** The evidence file's bytes, in any chunking. */
  evidence?: AsyncIterable<Buffer | string>;
}


/** Equal as JSON values (object key order aside), without writing either out. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    if (a.length !== bs.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], bs[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  if (ak.length !== bk.length) return false;
  for (const k of ak) if (!Object.prototype.hasOwnProperty.call(bo, k) || !same(ao[k], bo[k])) return false;
  return true;
}

function sumCounts(cs: Counts[]): Counts {
  let packets = 0n;
  let bytes = 0n;
  let flows = 0;
  for (const c of cs) {
    flows += c.flows;
    packets += BigInt(c.packets);
    bytes += BigInt(c.bytes);
  }
  return { flows, packets: packets.toString(), bytes: bytes.toString() };
}

function groupCounts(p: AttestationPredicate, keysOf: (path: AttestationPredicate['paths'][number]) => string[]): Map<string, Counts> {
  const acc = new Map<string, Counts[]>();
  for (const path of p.paths) {
    for (const k of new Set(keysOf(path))) acc.set(k, [...(acc.get(k) ?? []), path.counts]);
  }
  return new Map([...acc].map(([k, cs]) => [k, sumCounts(cs)]));
}

/** The predicate's arithmetic, without the evidence. Assumes the shape was checked. */
function checkPredicate(p: AttestationPredicate, fail: (check: string, message: string) => void): void {
  const t = p.totals;
  if (!same(sumCounts([...p.paths.map((x) => x.counts), p.noPath]), { flows: t.flows, packets: t.packets, bytes: t.bytes })) {
    fail('predicate.totals', 'per-path counts plus flows without a path do not add up to the totals');
  }
  for (const path of p.paths) {
    if (!isSrv6Path(path)) continue;
    const problem = srv6EntryProblem(path.fingerprint, entryOf(path) as Srv6Entry);
    if (problem) fail('predicate.paths', problem);
  }
  const countries = groupCounts(p, (path) => path.hops.map((h) => h.country));
  if (!same(Object.fromEntries(countries), Object.fromEntries(p.countries.map((c) => [c.country, c.counts])))) {
    fail('predicate.countries', 'per-country totals are not the sums over the paths crossing each country');
  }
  const ases = groupCounts(p, (path) => (isSrv6Path(path) ? [] : path.hops.map((h) => h.isdAs)));
  if (!same(Object.fromEntries(ases), Object.fromEntries(p.ases.map((a) => [a.isdAs, a.counts])))) {
    fail('predicate.ases', 'per-AS totals are not the sums over the paths crossing each AS');
  }
  if (t.compliant + t.violation + t.unverified + t.unjudged !== t.flows) fail('predicate.verdicts', 'geofence verdict counts do not add up to the flows');
  if (p.violations.length !== t.violation) fail('predicate.violations', `${p.violations.length} violations listed, totals say ${t.violation}`);
  if (p.unverified.length !== t.unverified) fail('predicate.unverified', `${p.unverified.length} unverified flows listed, totals say ${t.unverified}`);
  if (p.evidence.flows !== t.flows) fail('predicate.evidence', `evidence holds ${p.evidence.flows} flows, totals say ${t.flows}`);
  if (!(p.window.from <= p.window.to)) fail('predicate.window', `window ends (${p.window.to}) before it starts (${p.window.from})`);
  for (const g of p.geofences) {
    if (g.spec === null) continue;
    let digest;
    try {
      digest = createHash('sha256').update(canonicalJson(g.spec)).digest('hex');
    } catch {
      fail('predicate.geofences', `geofence ${g.name}: the spec cannot be written as canonical JSON`);
      continue;
    }
    if (digest !== g.specSha256) fail('predicate.geofences', `geofence ${g.name}: spec digest ${g.specSha256 ?? 'missing'} is not the spec's (${digest})`);
  }
}

/**
 * Whether every number in a parsed JSON value is finite (JSON.parse gives Infinity for
 * 1e999; canonical JSON has none). Too deep a value throws RangeError, as writing it would.
 */
function finite(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v !== 'object' || v === null) return true;
  if (Array.isArray(v)) {
    for (const x of v) if (!finite(x)) return false;
    return true;
  }
  for (const k in v) if (!finite((v as Record<string, unknown>)[k])) return false;
  return true;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const strings = (v: Record<string, unknown>, keys: string[]): boolean => keys.every((k) => isStr(v[k]));
const record = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Who made the statement and whose stores it covers; absent in attestations from before relays were named. */
function relaysShapeProblem(o: Record<string, unknown>): string | undefined {
  if (o.relays === undefined) return undefined;
  const r = o.relays;
  const relay = o.relay;
  if (!record(relay) || !strings(relay, ['name', 'cluster', 'version']) || !(relay.signingKey === null || isStr(relay.signingKey))) return 'predicate.relay does not name a relay';
  if (!record(r) || !Array.isArray(r.covered) || !Array.isArray(r.missing) || !Array.isArray(r.sharedStoreWith) || typeof r.duplicates !== 'number') return 'predicate.relays is not a coverage';
  if (!r.covered.every((c) => record(c) && strings(c, ['name', 'cluster', 'version']) && record(c.store) && strings(c.store, ['kind', 'location', 'database']))) return 'predicate.relays.covered holds an entry of the wrong form';
  if (!r.missing.every((m) => record(m) && strings(m, ['name', 'address', 'reason'])) || !r.sharedStoreWith.every(isStr)) return 'predicate.relays.missing or sharedStoreWith holds an entry of the wrong form';
  return undefined;
}

/** Enough shape for the checks to run; the signature already vouches for the content. */
function predicateShapeProblem(p: unknown): string | undefined {
  if (typeof p !== 'object' || p === null) return 'predicate is not an object';
  const o = p as Record<string, unknown>;
  for (const k of ['paths', 'countries', 'ases', 'violations', 'unverified', 'geofences']) if (!Array.isArray(o[k])) return `predicate.${k} is not a list`;
  for (const k of ['window', 'totals', 'noPath', 'evidence']) if (typeof o[k] !== 'object' || o[k] === null) return `predicate.${k} is missing`;
  if (typeof o.selector !== 'string') return 'predicate.selector is missing';
  const relayProblem = relaysShapeProblem(o);
  if (relayProblem) return relayProblem;
  try {
    const q = o as unknown as AttestationPredicate;
    sumCounts([...q.paths.map((x) => x.counts), q.noPath, ...q.countries.map((c) => c.counts), ...q.ases.map((c) => c.counts)]);
    if (!finite(o)) throw new TypeError('a number is not finite');
  } catch {
    return 'predicate holds counts or values of the wrong form';
  }
  return undefined;
}

async function checkEvidence(st: Statement, chunks: AsyncIterable<Buffer | string>, workers: number, fail: (check: string, message: string) => void): Promise<number> {
  const p = st.predicate;
  const fileHash = createHash('sha256');
  const merkle = new MerkleAccumulator();
  const tally = new PredicateTally();
  try {
    parseLabelSelector(p.selector);
  } catch (e) {
    fail('predicate.selector', (e as Error).message);
  }
  const paths: PathTable = new Map(p.paths.map((x) => [x.fingerprint, entryOf(x)]));
  const setup = { window: p.window, selector: p.selector, paths: [...paths.keys()] };

  // Runs of lines are checked in order (here or in workers) and merged in order.
  const seen = new Map<string, number>();
  const lineFail = (f: LineFailure): void => {
    const count = (seen.get(f.check) ?? 0) + 1;
    seen.set(f.check, count);
    if (count <= MAX_LINE_FAILURES) fail(f.check, `line ${f.index + 1}: ${f.message}`);
  };
  let last: ParsedLine | undefined;
  let unknownPath = false;
  const merge = (r: CheckedRun): void => {
    // The order across runs: this run's first parsed line against the last one before it.
    const across = last && r.first && (r.first.time < last.time || (r.first.time === last.time && r.first.text < last.text)) ? r.first : undefined;
    const listed: Record<string, number> = {};
    const take = (f: LineFailure): void => {
      listed[f.check] = (listed[f.check] ?? 0) + 1;
      lineFail(f);
    };
    let i = 0;
    if (across) {
      for (; i < r.failures.length && r.failures[i].index < across.index; i++) take(r.failures[i]);
      lineFail({ check: 'evidence.order', index: across.index, message: ORDER_MESSAGE });
    }
    for (; i < r.failures.length; i++) take(r.failures[i]);
    for (const [check, count] of Object.entries(r.counts)) if (count > (listed[check] ?? 0)) seen.set(check, (seen.get(check) ?? 0) + count - (listed[check] ?? 0));
    last = r.last ?? last;
    unknownPath ||= r.unknownPath;
    tally.merge(r.tally);
    // From a worker, hashes arrive as plain Uint8Arrays.
    for (const t of r.subtrees) merkle.addSubtree(Buffer.from(t.hash.buffer, t.hash.byteOffset, t.hash.byteLength), t.size);
  };

  const pool = workers > 0 ? new LineCheckerPool(setup, workers) : undefined;
  const checker = pool ? undefined : new LineChecker(new LineRules(setup), 0);
  const pending: Promise<CheckedRun>[] = [];
  // In workers: each run of whole lines, numbered from `first`, goes to a worker as a copy of its own.
  const ask = async (run: Buffer[], first: number): Promise<void> => {
    const checked = (pool as LineCheckerPool).check(run, first);
    checked.catch(() => undefined);
    pending.push(checked);
    // A few runs per worker in flight, so memory stays flat however long the evidence.
    while (pending.length > 3 * workers) merge(await (pending.shift() as Promise<CheckedRun>));
  };
  let n = 0;
  // Here: lines are checked in place in each chunk; only a line split across chunks is copied.
  let rest: Buffer | undefined;
  try {
    for await (const chunk of chunks) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      fileHash.update(b);
      const end = b.lastIndexOf(10) + 1;
      if (end === 0) {
        rest = rest ? Buffer.concat([rest, b]) : Buffer.from(b);
        continue;
      }
      if (checker) {
        let from = 0;
        if (rest) {
          from = b.indexOf(10) + 1;
          checker.lines(Buffer.concat([rest, b.subarray(0, from - 1)]));
        }
        checker.lines(b, from, end);
      } else {
        // The line split across chunks and this chunk's whole lines, copied once, by the pool.
        const run = b.subarray(0, end);
        const first = n;
        for (let nl = run.indexOf(10); nl >= 0; nl = run.indexOf(10, nl + 1)) n++;
        await ask(rest ? [rest, run] : [run], first);
      }
      rest = end < b.length ? Buffer.from(b.subarray(end)) : undefined;
    }
    if (rest) {
      if (checker) checker.lines(rest);
      else await ask([rest], n++);
    }
    if (checker) {
      n = checker.nextIndex;
      merge(checker.result());
    }
    for (const run of pending) merge(await run);
  } finally {
    await pool?.close();
  }
  if (rest) fail('evidence.format', 'the last line has no terminating newline');
  for (const [check, count] of seen) if (count > MAX_LINE_FAILURES) fail(check, `... and ${count - MAX_LINE_FAILURES} more lines`);
  const root = merkle.root().toString('hex');
  const subject = st.subject[0]?.digest?.sha256;
  if (root !== subject) fail('evidence.merkleRoot', `the evidence's Merkle root ${root} is not the subject digest ${subject}`);
  const sha = fileHash.digest('hex');
  if (sha !== p.evidence.sha256) fail('evidence.sha256', `the evidence file's SHA-256 ${sha} is not the predicate's ${p.evidence.sha256}`);
  if (n !== p.evidence.flows) fail('evidence.flows', `the evidence holds ${n} flows, the predicate says ${p.evidence.flows}`);
  if (unknownPath) return n;
  const s = tally.summary(paths);
  if (!same(s.paths, p.paths)) fail('evidence.paths', 'per-path counts recomputed from the evidence differ from the predicate');
  if (!same(s.noPath, p.noPath)) fail('evidence.noPath', 'flows without a path recomputed from the evidence differ from the predicate');
  if (!same(s.countries, p.countries)) fail('evidence.countries', 'per-country totals recomputed from the evidence differ from the predicate');
  if (!same(s.ases, p.ases)) fail('evidence.ases', 'per-AS totals recomputed from the evidence differ from the predicate');
  if (!same(s.totals, p.totals)) fail('evidence.totals', 'totals recomputed from the evidence differ from the predicate');
  if (!same(s.violations, p.violations)) fail('evidence.violations', 'the violations in the evidence are not the ones the predicate lists');
  if (!same(s.unverified, p.unverified)) fail('evidence.unverified', 'the unverified flows in the evidence are not the ones the predicate lists');
  const fences = new Set(p.geofences.map((g) => g.name));
  const missing = [...tally.fences].filter((f) => !fences.has(f));
  if (missing.length) fail('evidence.geofences', `geofences applied in the evidence but not listed: ${missing.sort().join(', ')}`);
  return n;
}

export async function verifyAttestation(input: VerifyInput): Promise<VerifyResult> {
  const failures: Failure[] = [];
  const fail = (check: string, message: string): void => {
    failures.push({ check, message });
  };
  let keyids: string[] = [];
  const done = (extra: Partial<VerifyResult> = {}): VerifyResult => ({ ok: failures.length === 0, failures, keyids, ...extra });

  let env;
  let payload: Buffer;
  try {
    env = parseEnvelope(input.envelope);
    // parseEnvelope has checked it is base64: decoded once, not checked again.
    payload = Buffer.from(env.payload, 'base64');
  } catch (e) {
    if (!(e instanceof EnvelopeError)) throw e;
    fail('envelope', e.message);
    return done();
  }
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) fail('payloadType', `payload type is "${env.payloadType}", expected "${IN_TOTO_PAYLOAD_TYPE}"`);
  keyids = verifyEnvelope(env, input.keys, payload);
  const keyid = keyids[0];
  const threshold = input.threshold ?? 1;
  if (keyids.length === 0) {
    fail('signature', `no signature verifies with ${input.keys.length === 1 ? `the key ${keyId(input.keys[0])}` : `any of the ${input.keys.length} keys`}`);
  } else if (keyids.length < threshold) {
    fail('signature', `${keyids.length} of the trusted keys signed, ${threshold} required`);
  }

  let st: Statement;
  try {
    st = JSON.parse(payload.toString('utf8')) as Statement;
    if (typeof st !== 'object' || st === null) throw new Error('not an object');
  } catch (e) {
    fail('statement', `the payload is not a JSON statement: ${(e as Error).message}`);
    return done({ keyid });
  }
  if (st._type !== STATEMENT_TYPE) fail('statementType', `statement _type is "${String(st._type)}", expected "${STATEMENT_TYPE}"`);
  if (st.predicateType !== PREDICATE_TYPE) fail('predicateType', `predicateType is "${String(st.predicateType)}", expected "${PREDICATE_TYPE}"`);
  const shape = predicateShapeProblem(st.predicate);
  if (shape) {
    fail('predicate', shape);
    return done({ keyid, statement: st });
  }
  const subj = Array.isArray(st.subject) ? st.subject : [];
  if (subj.length !== 1 || subj[0]?.name !== EVIDENCE_NAME || subj[0]?.digest?.sha256 !== st.predicate.evidence.merkleRoot) {
    fail('subject', `expected one subject "${EVIDENCE_NAME}" whose sha256 is the evidence Merkle root ${st.predicate.evidence.merkleRoot}`);
  }
  checkPredicate(st.predicate, fail);
  const evidenceFlows = input.evidence ? await checkEvidence(st, input.evidence, input.workers ?? 0, fail) : undefined;
  return done({ keyid, statement: st, evidenceFlows });
}
