// The in-toto Statement v1 wrapping the predicate. Its one subject is the evidence file,
// but its digest is NOT the file's SHA-256: it is the RFC 6962 Merkle root over the file's
// lines (merkle.ts), so a single flow's inclusion can be proven without the whole file. The
// plain file SHA-256 is in predicate.evidence.sha256.
import { canonicalJson, type Json } from './canonical_json';
import { PREDICATE_TYPE, type AttestationPredicate } from './predicate';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const EVIDENCE_NAME = 'flows.ndjson';

export interface Statement {
  _type: string;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: AttestationPredicate;
}

export function buildStatement(predicate: AttestationPredicate): Statement {
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: EVIDENCE_NAME, digest: { sha256: predicate.evidence.merkleRoot } }],
    predicateType: PREDICATE_TYPE,
    predicate,
  };
}

/** The bytes that get signed: canonical JSON, so the same statement always signs the same. */
export function statementBytes(s: Statement): Buffer {
  return Buffer.from(canonicalJson(s as unknown as Json), 'utf8');
}
