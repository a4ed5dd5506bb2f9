// The requesting side of the Level 1 key exchange: cluster B asks peer A for K_{A,B} with a
// request signed by B's key and a fresh X25519 key, and takes an answer only when A's pinned
// key signed it, it answers this very request for this cluster, every epoch in it is one
// asked for, and every key opens under the agreed wrap key. Anything else is refused with
// its code and nothing of it is kept.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Level1Request, Level1Response, SignedLevel1Request, SignedLevel1Response } from '../proto/gen/mesh/v1/drkey';
import { checkIssuedEpoch, epochContains, type Epoch } from '../scion/drkey/epoch';
import type { Level1Key } from '../scion/drkey/level1';
import { PROTOCOL_GENERIC } from '../scion/drkey/protocol';
import type { IA } from '../scion/isdas';
import { exchangeBytes } from './http';
import { KeyExchangeError, type KeyResult, refuseKey } from './key_error';
import { digest, LEVEL1_PATH, MAX_VALID_AT, openKey, REQUEST_CONTEXT, RESPONSE_CONTEXT, type WrapContext, wrapKey, x25519FromRaw, x25519Raw } from './level1_wire';
import { signWith, verifyWith } from './signing';
import type { MeshPeer } from './peers';

export interface Level1ClientOptions {
  clusterName: string;
  ia: IA;
  privateKey: KeyObject;
  /** An answer holds at most three keys: a few hundred bytes. */
  maxResponseBytes?: number;
  timeoutMs?: number;
  /** Unix ms. */
  now?: () => number;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 4096;

/** A request as sent, with what is needed to open its answer. */
export interface PendingRequest {
  bytes: Uint8Array;
  issuer: string;
  validAt: number[];
  ephemeral: KeyObject;
  ephemeralPublic: Uint8Array;
}

/** Where a peer answers key requests: beside its catalogue. */
export function level1Url(peer: MeshPeer): string | undefined {
  return peer.url ? new URL(LEVEL1_PATH, peer.url).toString() : undefined;
}

export function makeRequest(opts: Level1ClientOptions, issuer: string, validAt: readonly number[]): PendingRequest {
  if (validAt.length === 0 || validAt.length > MAX_VALID_AT) throw new KeyExchangeError('BAD_EPOCH', `ask for 1-${MAX_VALID_AT} times, not ${validAt.length}`);
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralPublic = x25519Raw(ephemeral.publicKey);
  const request = Level1Request.encode({
    requester: opts.clusterName,
    issuer,
    timestampMs: BigInt((opts.now ?? Date.now)()),
    validAt: [...validAt],
    ephemeralPublicKey: ephemeralPublic,
  }).finish();
  const bytes = SignedLevel1Request.encode({ request: Buffer.from(request), signature: signWith(REQUEST_CONTEXT, request, opts.privateKey) }).finish();
  return { bytes, issuer, validAt: [...validAt], ephemeral: ephemeral.privateKey, ephemeralPublic };
}

/** The Level 1 keys K_{issuer, self} in an answer to `pending`, or why it is refused. */
export function openResponse(bytes: Uint8Array, pending: PendingRequest, issuer: MeshPeer, self: { clusterName: string; ia: IA }, maxBytes = DEFAULT_MAX_RESPONSE_BYTES): KeyResult<Level1Key[]> {
  const who = issuer.clusterName;
  if (bytes.length > maxBytes) return refuseKey('TOO_LARGE', `${who}'s answer has ${bytes.length} bytes, limit ${maxBytes}`);
  if (issuer.ia === undefined) return refuseKey('UNKNOWN_CLUSTER', `${who} has no ISD-AS in the mesh file`);
  let signed: SignedLevel1Response;
  try {
    signed = SignedLevel1Response.decode(bytes);
  } catch (e) {
    return refuseKey('MALFORMED', `${who}'s answer does not decode: ${(e as Error).message}`);
  }
  if (signed.signature.length === 0) return refuseKey('UNSIGNED', `${who}'s answer carries no signature`);
  if (!verifyWith(RESPONSE_CONTEXT, signed.response, issuer.publicKey, signed.signature)) {
    return refuseKey('BAD_SIGNATURE', `an answer claims to be ${who}'s but its key did not sign it`);
  }
  let res: Level1Response;
  try {
    res = Level1Response.decode(signed.response);
  } catch (e) {
    return refuseKey('MALFORMED', `${who}'s signed answer does not decode: ${(e as Error).message}`);
  }
  const requestDigest = digest(pending.bytes);
  if (res.issuer !== who || res.requester !== self.clusterName || !requestDigest.equals(res.requestDigest)) {
    return refuseKey('WRONG_ANSWER', `${who} signed an answer to another request (issuer ${res.issuer.slice(0, 80)}, requester ${res.requester.slice(0, 80)})`);
  }
  const issuerPublic = x25519FromRaw(res.ephemeralPublicKey);
  if (!issuerPublic) return refuseKey('MALFORMED', `${who}'s ephemeral key is not an X25519 public key`);
  const ctx: WrapContext = { issuer: who, requester: self.clusterName, requestDigest, requesterPublic: pending.ephemeralPublic, issuerPublic: res.ephemeralPublicKey };
  const wrap = wrapKey(pending.ephemeral, issuerPublic, ctx);
  if (!wrap) return refuseKey('MALFORMED', `${who}'s ephemeral key gives no shared secret`);
  if (res.keys.length === 0 || res.keys.length > pending.validAt.length) {
    return refuseKey('BAD_EPOCH', `${who} answered ${res.keys.length} keys for ${pending.validAt.length} times asked`);
  }
  const out: Level1Key[] = [];
  for (const [i, k] of res.keys.entries()) {
    const epoch: Epoch = { begin: k.epochBegin, end: k.epochEnd };
    try {
      checkIssuedEpoch(epoch, `${who}'s epoch`);
    } catch (e) {
      return refuseKey('BAD_EPOCH', (e as Error).message);
    }
    if (!pending.validAt.some((t) => epochContains(epoch, t))) {
      return refuseKey('BAD_EPOCH', `${who} answered for epoch [${epoch.begin}, ${epoch.end}), which holds none of the times asked (${pending.validAt.join(', ')})`);
    }
    const key = openKey(wrap, ctx, i, epoch, k.sealedKey);
    if (!key) return refuseKey('MALFORMED', `${who}'s key for epoch [${epoch.begin}, ${epoch.end}) does not open`);
    out.push({ protocol: PROTOCOL_GENERIC, epoch, srcIA: issuer.ia, dstIA: self.ia, key });
  }
  const missing = pending.validAt.filter((t) => !out.some((k) => epochContains(k.epoch, t)));
  if (missing.length > 0) return refuseKey('BAD_EPOCH', `${who} answered no key for ${missing.join(', ')}`);
  return { ok: true, value: out };
}

/** Asks `issuer` for K_{issuer, self} of the epochs holding `validAt` over HTTP. */
export async function fetchLevel1(opts: Level1ClientOptions, issuer: MeshPeer, validAt: readonly number[]): Promise<KeyResult<Level1Key[]>> {
  const url = level1Url(issuer);
  if (!url) return refuseKey('FETCH_FAILED', `${issuer.clusterName} has no url in the mesh file`);
  const pending = makeRequest(opts, issuer.clusterName, validAt);
  const maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const r = await exchangeBytes(url, pending.bytes, maxBytes, opts.timeoutMs ?? 5000);
  if (!r.ok) return refuseKey(r.error.code, r.error.message);
  return openResponse(r.value, pending, issuer, opts, maxBytes);
}
