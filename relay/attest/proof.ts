// One flow's inclusion proof as a file a third party checks against the signed envelope
// alone: the flow's evidence line, its index and the RFC 6962 audit path. The root and the
// tree size it is checked against come from the signed statement (subject digest and
// predicate.evidence.flows), never from the proof file, so the file needs no trust.
import type { KeyObject } from 'node:crypto';
import type { CanonicalFlow } from './canonical_flow';
import { EvidenceLineError, parseEvidenceLine } from './evidence_line';
import { leafHash, verifyInclusion } from './merkle';
import { parseFlowLabels, parseLabelSelector, selectorMatches } from '../../observer/filters/label_selector';
import type { IndexedProof } from './tree_index';
import { verifyAttestation, type Failure } from './verify';
import type { Statement } from './statement';

export const PROOF_TYPE = 'https://cillion.io/attestation/inclusion-proof/v1';

export interface ProofFile {
  proofType: string;
  /** The Merkle root the proof leads to (the subject digest it was made for); informative. */
  subject: string;
  /** Leaves in the tree it was made for; informative, the statement's count is what counts. */
  treeSize: number;
  /** Line number in the evidence, from 0. */
  index: number;
  /** The flow's evidence line, without its newline. */
  line: string;
  /** Sibling hashes, nearest first, hex. */
  proof: string[];
}

export class ProofFileError extends Error {}

export function proofFile(p: IndexedProof): ProofFile {
  return {
    proofType: PROOF_TYPE,
    subject: p.root.toString('hex'),
    treeSize: p.size,
    index: p.index,
    line: p.line.toString('utf8'),
    proof: p.proof.map((h) => h.toString('hex')),
  };
}

const HEX32 = /^[0-9a-f]{64}$/;

export function parseProofFile(text: string | Buffer): ProofFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text.toString());
  } catch (e) {
    throw new ProofFileError(`not JSON: ${(e as Error).message}`);
  }
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (o.proofType !== PROOF_TYPE) throw new ProofFileError(`proofType is not ${PROOF_TYPE}`);
  if (typeof o.line !== 'string') throw new ProofFileError('line is missing');
  if (!Number.isSafeInteger(o.index) || (o.index as number) < 0) throw new ProofFileError('index is not a non-negative integer');
  if (!Number.isSafeInteger(o.treeSize) || (o.treeSize as number) < 1) throw new ProofFileError('treeSize is not a positive integer');
  if (typeof o.subject !== 'string' || !HEX32.test(o.subject)) throw new ProofFileError('subject is not a SHA-256 in hex');
  // A path longer than 64 hashes would be a tree of more than 2^64 leaves.
  if (!Array.isArray(o.proof) || o.proof.length > 64 || !o.proof.every((h) => typeof h === 'string' && HEX32.test(h))) {
    throw new ProofFileError('proof is not a list of at most 64 SHA-256 hashes in hex');
  }
  return { proofType: PROOF_TYPE, subject: o.subject, treeSize: o.treeSize as number, index: o.index as number, line: o.line, proof: o.proof as string[] };
}

export interface ProofCheck {
  ok: boolean;
  failures: Failure[];
  keyids: string[];
  statement?: Statement;
  /** The proven flow, when its line is a canonical evidence line. */
  flow?: CanonicalFlow;
}

/**
 * Checks the envelope (signature by `threshold` of `keys`, statement and predicate) and
 * that the proof's line is leaf `index` of the tree whose root and size the statement signs.
 */
export async function verifyProof(input: { envelope: string | Buffer; keys: KeyObject[]; threshold?: number; proof: ProofFile }): Promise<ProofCheck> {
  const r = await verifyAttestation({ envelope: input.envelope, keys: input.keys, threshold: input.threshold });
  const failures = [...r.failures];
  const st = r.statement;
  const p = input.proof;
  let flow: CanonicalFlow | undefined;
  if (st?.predicate?.evidence && st.subject?.[0]?.digest) {
    const root = st.subject[0].digest.sha256;
    const size = st.predicate.evidence.flows;
    if (p.treeSize !== size) failures.push({ check: 'proof.treeSize', message: `the proof was made for ${p.treeSize} flows, the statement signs ${size}` });
    if (p.subject !== root) failures.push({ check: 'proof.subject', message: `the proof was made for root ${p.subject}, the statement signs ${root}` });
    const ok = verifyInclusion(leafHash(Buffer.from(p.line, 'utf8')), p.index, size, p.proof.map((h) => Buffer.from(h, 'hex')), Buffer.from(root, 'hex'));
    if (!ok) failures.push({ check: 'inclusion', message: `the line is not flow ${p.index} of the ${size} flows whose Merkle root the statement signs` });
    try {
      flow = parseEvidenceLine(p.line);
      const w = st.predicate.window;
      if (flow.time < w.from || flow.time >= w.to) failures.push({ check: 'proof.window', message: `time ${flow.time} is outside the window [${w.from}, ${w.to})` });
      let selector;
      try {
        selector = parseLabelSelector(st.predicate.selector);
      } catch (e) {
        failures.push({ check: 'predicate.selector', message: (e as Error).message });
      }
      if (selector && !selectorMatches(selector, parseFlowLabels(flow.src.labels))) {
        failures.push({ check: 'proof.selector', message: `source labels do not match "${st.predicate.selector}"` });
      }
    } catch (e) {
      if (!(e instanceof EvidenceLineError)) throw e;
      failures.push({ check: 'proof.line', message: e.message });
    }
  }
  return { ok: failures.length === 0, failures, keyids: r.keyids, statement: st, flow };
}
