// The DRKey key hierarchy (drkey.rst, "Derivation scheme"): every level is the PRF keyed
// with the level above over a type byte and the identity of the subject.
//
//   Level 1  K_{A,B}         = PRF_{SV_A}(AS_AS || B)
//   Level 2  K_{A,B}^p       = PRF_{K_{A,B}}(AS_AS || p)             (generic hierarchy only)
//   Level 2  K_{A,B:H_B}     = PRF_{K_{A,B}}(AS_HOST || [protocol] || typeLen(H_B) || H_B)
//            K_{A:H_A,B}     = PRF_{K_{A,B}}(HOST_AS || [protocol] || typeLen(H_A) || H_A)
//   Level 3  K_{A:H_A,B:H_B} = PRF_{K_{A:H_A,B}}(HOST_HOST || typeLen(H_B) || H_B)
//
// [protocol] (2 bytes) is present in the generic-protocol hierarchy only, where Level 1 is
// the protocol-0 key and the concrete protocol enters at Level 2.
import type { IA } from '../isdas';
import type { HostAddr } from '../packet';
import { DrkeyError } from './errors';
import { encodeDrkeyHost } from './host';
import { checkKey, drkeyPrf } from './prf';
import { checkProtocol, KeyType } from './protocol';

const U64_MAX = (1n << 64n) - 1n;

/** K_{A,B}: keyed with A's secret value (of the Level 1 key's protocol), for destination AS B. */
export function deriveLevel1(svKey: Uint8Array, dstIA: IA): Uint8Array {
  checkKey(svKey, 'secret value');
  if (typeof dstIA !== 'bigint' || dstIA < 0n || dstIA > U64_MAX) {
    throw new DrkeyError('BAD_IA', `destination ISD-AS must be a 64-bit value, got ${String(dstIA)}`);
  }
  const input = new Uint8Array(9);
  input[0] = KeyType.AS_AS;
  new DataView(input.buffer).setBigUint64(1, dstIA);
  return drkeyPrf(svKey, input);
}

/**
 * How Level 2 keys are derived: 'specific' when the Level 1 key was derived for the protocol
 * itself, { generic: protocol } when it is the protocol-0 key and the protocol enters here.
 */
export type Level2Scheme = 'specific' | { generic: number };

function level2(type: KeyType, scheme: Level2Scheme, level1: Uint8Array, host: HostAddr): Uint8Array {
  checkKey(level1, 'Level 1 key');
  const h = encodeDrkeyHost(host);
  if (scheme === 'specific') {
    const input = new Uint8Array(1 + h.length);
    input[0] = type;
    input.set(h, 1);
    return drkeyPrf(level1, input);
  }
  const protocol = checkProtocol(scheme?.generic, 'generic protocol');
  const input = new Uint8Array(3 + h.length);
  input[0] = type;
  input[1] = protocol >> 8;
  input[2] = protocol & 0xff;
  input.set(h, 3);
  return drkeyPrf(level1, input);
}

/** K_{A,B:H_B}: the AS-host key; A derives it directly, B's host gets it through CS_B. */
export function deriveAsHost(scheme: Level2Scheme, level1: Uint8Array, dstHost: HostAddr): Uint8Array {
  return level2(KeyType.AS_HOST, scheme, level1, dstHost);
}

/** K_{A:H_A,B}: the host-AS key, held by A's host and trusted infrastructure to derive Level 3. */
export function deriveHostAs(scheme: Level2Scheme, level1: Uint8Array, srcHost: HostAddr): Uint8Array {
  return level2(KeyType.HOST_AS, scheme, level1, srcHost);
}

/**
 * K_{A,B}^protocol, the AS-AS key of a niche protocol in the generic hierarchy: the Level 2
 * input of the other key types with no host, type AS_AS. drkey.rst lists no such row (and
 * scionproto ships no vector); it is the generic scheme's Level 2 input with the host left
 * out, the same for every host of both ASes, which is what an AS-to-AS datapath key needs.
 * The type byte keeps it apart from every AS-host and host-AS key under the same K_{A,B}.
 */
export function deriveGenericAsAs(protocol: number, level1: Uint8Array): Uint8Array {
  checkKey(level1, 'Level 1 key');
  const p = checkProtocol(protocol, 'generic protocol');
  return drkeyPrf(level1, new Uint8Array([KeyType.AS_AS, p >> 8, p & 0xff]));
}

/** K_{A:H_A,B:H_B} from the host-AS key K_{A:H_A,B}; the same in both hierarchies. */
export function deriveHostHost(hostAs: Uint8Array, dstHost: HostAddr): Uint8Array {
  checkKey(hostAs, 'host-AS key');
  const h = encodeDrkeyHost(dstHost);
  const input = new Uint8Array(1 + h.length);
  input[0] = KeyType.HOST_HOST;
  input.set(h, 1);
  return drkeyPrf(hostAs, input);
}
