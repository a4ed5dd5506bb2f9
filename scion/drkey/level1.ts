// Level 1 keys as they travel between control planes: K_{A,B} is issued by A (the fast
// side, derived from SV_A) and fetched by B over an authenticated channel (drkey.rst,
// "Level 1 key establishment"). The issuer side lives here; what the fetching side keeps
// is level1_store.ts.
import type { IA } from '../isdas';
import { deriveLevel1 } from './derive';
import { checkEpochLength, checkIssuedEpoch, DEFAULT_EPOCH_SECONDS, type Epoch, gridEpoch } from './epoch';
import { DrkeyError } from './errors';
import { checkProtocol, PROTOCOL_GENERIC } from './protocol';
import { deriveSecretValue, type SecretValue } from './secret_value';

export interface Level1Key {
  protocol: number;
  epoch: Epoch;
  /** The issuer A (fast side). */
  srcIA: IA;
  /** The subject B (slow side), who fetched it. */
  dstIA: IA;
  key: Uint8Array;
}

export interface IssuerOptions {
  localIA: IA;
  masterSecret: Uint8Array;
  epochSeconds?: number;
  /** PROTOCOL_GENERIC (default) for the generic hierarchy, or a protocol with its own SVs. */
  protocol?: number;
}

/** Secret values kept: the previous, current and next epoch and one spare. */
const SV_CACHE = 4;

/** AS A's side: its secret values per epoch and the Level 1 keys it hands to peers. */
export class DrkeyIssuer {
  readonly localIA: IA;
  readonly epochSeconds: number;
  readonly protocol: number;
  private readonly masterSecret: Uint8Array;
  private readonly svs = new Map<number, SecretValue>();

  constructor(opts: IssuerOptions) {
    this.localIA = opts.localIA;
    this.masterSecret = opts.masterSecret;
    this.epochSeconds = checkEpochLength(opts.epochSeconds ?? DEFAULT_EPOCH_SECONDS);
    this.protocol = checkProtocol(opts.protocol ?? PROTOCOL_GENERIC);
    if (!(opts.masterSecret instanceof Uint8Array) || opts.masterSecret.length < 16) {
      throw new DrkeyError('BAD_SECRET', 'the AS master secret must be at least 16 bytes');
    }
  }

  /** The epoch containing `unixSeconds`, or `offset` epochs before/after it. */
  epochAt(unixSeconds: number, offset = 0): Epoch {
    return gridEpoch(unixSeconds, this.epochSeconds, offset);
  }

  secretValue(epoch: Epoch): SecretValue {
    checkIssuedEpoch(epoch);
    const hit = this.svs.get(epoch.begin);
    if (hit !== undefined && hit.epoch.end === epoch.end) return hit;
    const sv = deriveSecretValue(this.protocol, epoch, this.masterSecret);
    if (this.svs.size >= SV_CACHE) this.svs.delete(this.svs.keys().next().value as number);
    this.svs.set(epoch.begin, sv);
    return sv;
  }

  /** K_{local, dstIA} for the epoch around `unixSeconds` (offset 1: the one to prefetch). */
  level1(dstIA: IA, unixSeconds: number, offset = 0): Level1Key {
    const epoch = this.epochAt(unixSeconds, offset);
    const key = deriveLevel1(this.secretValue(epoch).key, dstIA);
    return { protocol: this.protocol, epoch, srcIA: this.localIA, dstIA, key };
  }
}
