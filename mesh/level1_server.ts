// The issuing side of the Level 1 key exchange: cluster A answers a peer B's signed request
// with K_{A,B} for the epochs asked, sealed to B's ephemeral X25519 key, signed with A's key.
// Checks run cheapest and least trusting first: size (the HTTP route), decoding, the
// requester's pinned key, freshness, replay, the epochs asked; only then is a key derived.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Level1Request, Level1Response, SignedLevel1Request, SignedLevel1Response } from '../proto/gen/mesh/v1/drkey';
import { GRACE_PERIOD_SECONDS, PREFETCH_PERIOD_SECONDS, type Epoch } from '../scion/drkey/epoch';
import type { DrkeyIssuer } from '../scion/drkey/level1';
import type { PostAnswer, PostRefusal, PostRoute } from './http';
import { type KeyExchangeErrorCode, KeyExchangeError, zeroKeyCounts } from './key_error';
import { digest, LEVEL1_PATH, MAX_VALID_AT, REQUEST_CONTEXT, RESPONSE_CONTEXT, sealKey, type WrapContext, wrapKey, x25519FromRaw, x25519Raw } from './level1_wire';
import { signWith, verifyWith } from './signing';
import type { MeshPeers } from './peers';

export interface Level1ServerLimits {
  /** A request is a few hundred bytes. */
  maxRequestBytes: number;
  /** Requests read or answered at once (each costs a signature check, an X25519 agreement, a signature). */
  maxInFlight: number;
  bodyTimeoutMs: number;
  /** How far a request's timestamp may be from this clock, either way. */
  maxSkewMs: number;
  /**
   * Requests remembered per requesting cluster to refuse a replay within the skew window; a
   * cluster that asks more is refused BUSY, the others are not (memory: peers times this).
   */
  maxRemembered: number;
}

export const DEFAULT_LEVEL1_SERVER_LIMITS: Level1ServerLimits = {
  maxRequestBytes: 1024,
  maxInFlight: 16,
  bodyTimeoutMs: 5000,
  maxSkewMs: 30_000,
  maxRemembered: 4096,
};

export interface Level1ServerOptions {
  clusterName: string;
  issuer: DrkeyIssuer;
  privateKey: KeyObject;
  peers: MeshPeers;
  limits?: Partial<Level1ServerLimits>;
  /** Unix ms. */
  now?: () => number;
  log?: (message: string) => void;
}

export interface Level1ServerStats {
  served: number;
  refused: Record<KeyExchangeErrorCode, number>;
}

const STATUS: Partial<Record<KeyExchangeErrorCode, number>> = {
  MALFORMED: 400,
  BAD_EPOCH: 400,
  UNSIGNED: 403,
  UNKNOWN_CLUSTER: 403,
  BAD_SIGNATURE: 403,
  STALE: 403,
  REPLAYED: 403,
  TOO_LARGE: 413,
  TIMEOUT: 408,
  BUSY: 503,
};

class Refused {
  constructor(readonly error: KeyExchangeError) {}
}
const refuse = (code: KeyExchangeErrorCode, message: string) => new Refused(new KeyExchangeError(code, message));

export class Level1Server {
  readonly limits: Level1ServerLimits;
  private readonly now: () => number;
  private readonly log: (message: string) => void;
  /** Per requesting cluster: signatures answered, oldest first, with when. */
  private readonly remembered = new Map<string, Map<string, number>>();
  private readonly refusedCounts = zeroKeyCounts();
  private served = 0;
  private lastLogged = '';

  constructor(private readonly opts: Level1ServerOptions) {
    this.limits = { ...DEFAULT_LEVEL1_SERVER_LIMITS, ...opts.limits };
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
  }

  /** The POST route to serve beside the catalogue (mesh/http.ts serveCatalogue). */
  route(): PostRoute {
    return {
      path: LEVEL1_PATH,
      maxBytes: this.limits.maxRequestBytes,
      maxInFlight: this.limits.maxInFlight,
      bodyTimeoutMs: this.limits.bodyTimeoutMs,
      handle: (body) => this.handle(body),
      refused: (why: PostRefusal) => this.count(new KeyExchangeError(why, `request refused by the HTTP route (${why})`)),
    };
  }

  handle(body: Uint8Array): PostAnswer {
    const r = this.answer(body);
    if (r instanceof Refused) {
      this.count(r.error);
      return { status: STATUS[r.error.code] ?? 400, body: r.error.message };
    }
    this.served++;
    return { status: 200, body: r };
  }

  stats(): Level1ServerStats {
    return { served: this.served, refused: { ...this.refusedCounts } };
  }

  private count(e: KeyExchangeError): void {
    this.refusedCounts[e.code]++;
    // The same refusal on every round is logged once, counted every time.
    if (e.message !== this.lastLogged) this.log(`Level 1 key request refused: ${e.message}`);
    this.lastLogged = e.message;
  }

  private answer(body: Uint8Array): Uint8Array | Refused {
    if (body.length > this.limits.maxRequestBytes) return refuse('TOO_LARGE', `${body.length} bytes, limit ${this.limits.maxRequestBytes}`);
    let signed: SignedLevel1Request;
    let req: Level1Request;
    try {
      signed = SignedLevel1Request.decode(body);
      req = Level1Request.decode(signed.request);
    } catch (e) {
      return refuse('MALFORMED', `not an encoded signed Level 1 request: ${(e as Error).message}`);
    }
    const name = req.requester.slice(0, 80);
    if (signed.signature.length === 0) return refuse('UNSIGNED', `request of "${name}" carries no signature`);
    const peer = this.opts.peers.get(req.requester);
    if (!peer) return refuse('UNKNOWN_CLUSTER', `"${name}" is not a cluster of this mesh`);
    if (!verifyWith(REQUEST_CONTEXT, signed.request, peer.publicKey, signed.signature)) {
      return refuse('BAD_SIGNATURE', `request claims to be ${peer.clusterName}'s but its key did not sign it`);
    }
    if (req.issuer !== this.opts.clusterName) return refuse('MALFORMED', `${peer.clusterName} asked ${req.issuer.slice(0, 80)}, this is ${this.opts.clusterName}`);
    const now = this.now();
    const skew = Number(req.timestampMs) - now;
    if (Math.abs(skew) > this.limits.maxSkewMs) {
      return refuse('STALE', `${peer.clusterName}'s request is ${Math.round(-skew / 1000)} s old (limit ${this.limits.maxSkewMs / 1000} s either way)`);
    }
    const id = Buffer.from(signed.signature).toString('base64');
    const replay = this.remember(peer.clusterName, id, now);
    if (replay) return replay;
    if (peer.ia === undefined) return refuse('UNKNOWN_CLUSTER', `${peer.clusterName} has no ISD-AS in this cluster's mesh file`);
    const epochs = this.epochsAsked(req.validAt, now, peer.clusterName);
    if (epochs instanceof Refused) return epochs;
    const requesterPublic = x25519FromRaw(req.ephemeralPublicKey);
    if (!requesterPublic) return refuse('MALFORMED', `${peer.clusterName}'s ephemeral key is not an X25519 public key`);
    const own = generateKeyPairSync('x25519');
    const issuerPublic = x25519Raw(own.publicKey);
    const requestDigest = digest(body);
    const ctx: WrapContext = { issuer: this.opts.clusterName, requester: peer.clusterName, requestDigest, requesterPublic: req.ephemeralPublicKey, issuerPublic };
    const wrap = wrapKey(own.privateKey, requesterPublic, ctx);
    if (!wrap) return refuse('MALFORMED', `${peer.clusterName}'s ephemeral key gives no shared secret`);
    const keys = epochs.map((offset, i) => {
      const l1 = this.opts.issuer.level1(peer.ia!, Math.floor(now / 1000), offset);
      return { epochBegin: l1.epoch.begin, epochEnd: l1.epoch.end, sealedKey: sealKey(wrap, ctx, i, l1.epoch, l1.key) };
    });
    const response = Level1Response.encode({ issuer: this.opts.clusterName, requester: peer.clusterName, requestDigest, ephemeralPublicKey: issuerPublic, keys }).finish();
    return SignedLevel1Response.encode({ response: Buffer.from(response), signature: signWith(RESPONSE_CONTEXT, response, this.opts.privateKey) }).finish();
  }

  /** Refuses a request seen within the skew window; forgets what can no longer pass the freshness check. */
  private remember(requester: string, id: string, now: number): Refused | undefined {
    let seen = this.remembered.get(requester);
    if (!seen) this.remembered.set(requester, (seen = new Map()));
    if (seen.has(id)) return refuse('REPLAYED', 'this signed request was answered before');
    for (const [k, at] of seen) {
      if (at > now - 2 * this.limits.maxSkewMs) break;
      seen.delete(k);
    }
    if (seen.size >= this.limits.maxRemembered) {
      return refuse('BUSY', `${this.limits.maxRemembered} requests of ${requester} answered within ${(2 * this.limits.maxSkewMs) / 1000} s; try again later`);
    }
    seen.set(id, now);
    return undefined;
  }

  /**
   * The epochs (as offsets from the current one) the times asked fall in. Only the epochs a
   * peer can need are served: the one just ended while its grace lasts, the current one,
   * and during the prefetch period the next.
   */
  private epochsAsked(validAt: readonly number[], now: number, who: string): number[] | Refused {
    if (validAt.length === 0 || validAt.length > MAX_VALID_AT) return refuse('BAD_EPOCH', `${who} asked for ${validAt.length} times, want 1-${MAX_VALID_AT}`);
    const nowS = Math.floor(now / 1000);
    const slack = Math.ceil(this.limits.maxSkewMs / 1000);
    const current: Epoch = this.opts.issuer.epochAt(nowS);
    const offsets = new Set<number>();
    for (const t of validAt) {
      if (t < nowS - GRACE_PERIOD_SECONDS - slack || t > nowS + PREFETCH_PERIOD_SECONDS + slack) {
        return refuse('BAD_EPOCH', `${who} asked for the key at ${t}, outside ${nowS - GRACE_PERIOD_SECONDS - slack}..${nowS + PREFETCH_PERIOD_SECONDS + slack}`);
      }
      const offset = Math.floor((t - current.begin) / this.opts.issuer.epochSeconds);
      if (offset < -1 || offset > 1) return refuse('BAD_EPOCH', `${who} asked for the key at ${t}, ${offset} epochs from the current one`);
      offsets.add(offset);
    }
    return [...offsets].sort((a, b) => a - b);
  }
}
