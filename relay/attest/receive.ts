// The client's half of an Attest.Export answer: the evidence into a draft as it arrives, then
// the statement checked against the envelope (the relay's signature, or the client's own
// keys) and the attestation committed. `cillion attest export --server` reads the answer
// from gRPC, the relay's web UI from the same handler in-process; both end with the same
// directory.
import type { KeyObject } from 'node:crypto';
import type { ExportResponse } from '../../proto/gen/attest/v1/attest';
import { envelopePayload, parseEnvelope } from './dsse';
import { DraftError, type AttestationDraft } from './files';
import { keyId } from './keys';
import { renderReport } from './report';
import { signPayload } from './sign';
import type { Statement } from './statement';

export interface ReceiveOptions {
  /** Who answered, for messages ("127.0.0.1:4245", "the relay"). */
  source: string;
  /** Keys the client signs the statement with; none: the relay's envelope is taken. */
  keys?: KeyObject[];
  onProgress?: (flows: number) => void;
}

/** Reads the whole answer into `draft` and commits it; throws DraftError when the answer does not add up. */
export async function receiveExport(messages: AsyncIterable<ExportResponse>, draft: AttestationDraft, o: ReceiveOptions): Promise<Statement> {
  const keys = o.keys ?? [];
  const parts: Record<'statementChunk' | 'envelopeChunk' | 'reportChunk', Buffer[]> = { statementChunk: [], envelopeChunk: [], reportChunk: [] };
  for await (const msg of messages) {
    const item = msg.item;
    if (!item) continue;
    if (item.$case === 'progress') o.onProgress?.(Number(item.value.flows));
    else if (item.$case === 'evidenceChunk') await draft.sink(Buffer.from(item.value));
    else if (item.$case === 'path' || item.$case === 'catalogueChunk') throw new DraftError(`${o.source} answered with a relay's evidence_only form`);
    else parts[item.$case].push(Buffer.from(item.value));
  }
  const payload = Buffer.concat(parts.statementChunk);
  if (payload.length === 0) throw new DraftError(`${o.source} ended the export without a statement`);
  if (keys.length > 0) {
    const statement = JSON.parse(payload.toString('utf8')) as Statement;
    return draft.commit(signPayload(payload, keys), renderReport(statement, { keyid: keys.map(keyId).join(', ') }), keys);
  }
  if (parts.envelopeChunk.length === 0) throw new DraftError(`${o.source} sent no signed envelope`);
  const env = parseEnvelope(Buffer.concat(parts.envelopeChunk));
  if (!envelopePayload(env).equals(payload)) throw new DraftError(`${o.source} signed another statement than the one it sent`);
  return draft.commit(env, Buffer.concat(parts.reportChunk).toString('utf8'));
}
