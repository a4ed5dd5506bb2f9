// Signs a statement into the DSSE envelope that is the attestation.
import type { KeyObject } from 'node:crypto';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope, type Envelope } from './dsse';
import { statementBytes, type Statement } from './statement';

export function signStatement(statement: Statement, keys: KeyObject[]): Envelope {
  return signEnvelope(statementBytes(statement), IN_TOTO_PAYLOAD_TYPE, keys);
}

export function signPayload(payload: Buffer, keys: KeyObject[]): Envelope {
  return signEnvelope(payload, IN_TOTO_PAYLOAD_TYPE, keys);
}
