// The SPAO as a Cillion mesh uses it between cluster ASes, the reference the datapath
// (bpf/include/lib/spao.h) is checked against: a locally agreed SPI (above the DRKey range,
// so the MAC input carries both ISD-ASes and both hosts, mac_input.ts), AES-CMAC, the
// timestamp in ns since the key's epoch began, and the upper layer is the Cillion shim
// (scion/shim.ts) with the pod's packet, so the MAC covers the identity.
import { decodePacket, type ScionPacket, type SpaoOption } from '../packet';
import { PROTO_CILLION_SHIM } from '../shim';
import { ALGORITHM_AES_CMAC, CMAC_TAG_LEN, computeSpaoCmac, tagsEqual } from './authenticator';
import { SpaoError } from './errors';
import { locateSpao } from './locate';
import { authenticatedHeaderOf } from './mac_input';
import { sealSpao } from './seal';
import { MAX_TIMESTAMP } from './timestamp';

/** "CL" 01: the SPI every Cillion edge seals with and accepts. */
export const CILLION_SPI = 0x00434c01;

/** The SPAO for a packet sent at `sendNs` under a key whose epoch began at `epochBeginNs`; authenticator zero until sealed. */
export function cillionSpaoOption(epochBeginNs: bigint, sendNs: bigint): SpaoOption {
  const rel = sendNs - epochBeginNs;
  if (rel < 0n || rel > BigInt(MAX_TIMESTAMP)) {
    throw new SpaoError('BAD_TIMESTAMP', `send time is ${rel} ns from the epoch start; it must be in 0..2^48-1`);
  }
  return { kind: 'SPAO', type: 2, spi: CILLION_SPI, algorithm: ALGORITHM_AES_CMAC, timestampSeq: Number(rel), authenticator: new Uint8Array(CMAC_TAG_LEN) };
}

/** A copy of the encoded SCION packet (E2E{cillionSpaoOption} then the shim) with its authenticator filled in. */
export function sealCillion(scion: Uint8Array, key: Uint8Array): Uint8Array {
  return sealSpao(scion, key);
}

/** The authenticator `scion` should carry under `key`: what the receiving edge recomputes. */
export function cillionTag(scion: Uint8Array, key: Uint8Array): { packet: ScionPacket; option: SpaoOption; want: Uint8Array } {
  const packet = decodePacket(scion, { share: true });
  const loc = locateSpao(scion);
  const option = packet.extensions.find((x) => x.kind === 'E2E')?.options.find((o): o is SpaoOption => o.kind === 'SPAO');
  if (loc === undefined || option === undefined) throw new SpaoError('BAD_OPTION', 'packet has no SPAO');
  if (option.spi !== CILLION_SPI || loc.upperLayer !== PROTO_CILLION_SHIM) {
    throw new SpaoError('BAD_OPTION', `not a Cillion SPAO: SPI ${option.spi}, upper layer ${loc.upperLayer}`);
  }
  return { packet, option, want: computeSpaoCmac(key, authenticatedHeaderOf(packet), option, loc.upperLayer, scion.subarray(loc.upperLayerAt)) };
}

/** True when the Cillion SPAO of `scion` verifies under `key` (the MAC only; no window or replay state). */
export function cillionTagValid(scion: Uint8Array, key: Uint8Array): boolean {
  const { option, want } = cillionTag(scion, key);
  return tagsEqual(option.authenticator, want);
}
