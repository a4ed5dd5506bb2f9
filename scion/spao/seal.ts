// The sender's side: an SPAO to put into a packet's end-to-end options, and the tag written
// into it once the packet is encoded.
import { decodePacket, type ScionPacket, type SpaoOption } from '../packet';
import { ScionError } from '../errors';
import { ALGORITHM_AES_CMAC, CMAC_TAG_LEN, computeSpaoCmac } from './authenticator';
import { SpaoError } from './errors';
import type { EpochKey } from './key_select';
import { locateSpao } from './locate';
import { authenticatedHeaderOf } from './mac_input';
import { relativeTimestamp } from './timestamp';

/** An AES-CMAC SPAO for a packet sent at `sendNs` under `key`, its authenticator still zero. */
export function spaoOption(spi: number, key: EpochKey, sendNs: bigint): SpaoOption {
  return {
    kind: 'SPAO',
    type: 2,
    spi,
    algorithm: ALGORITHM_AES_CMAC,
    timestampSeq: relativeTimestamp(key.epoch, sendNs),
    authenticator: new Uint8Array(CMAC_TAG_LEN),
  };
}

/**
 * A copy of the encoded packet `bytes` with the AES-CMAC authenticator of its SPAO filled in.
 * The packet must already carry an AES-CMAC SPAO with a 16-byte authenticator (spaoOption).
 */
export function sealSpao(bytes: Uint8Array, key: Uint8Array): Uint8Array {
  let packet: ScionPacket;
  try {
    packet = decodePacket(bytes, { share: true });
  } catch (e) {
    if (e instanceof ScionError) throw new SpaoError('BAD_HEADER', `packet does not decode: ${e.message}`);
    throw e;
  }
  const loc = locateSpao(bytes);
  const opt = packet.extensions.find((x) => x.kind === 'E2E')?.options.find((o): o is SpaoOption => o.kind === 'SPAO');
  if (loc === undefined || opt === undefined) throw new SpaoError('BAD_OPTION', 'packet has no SPAO to seal');
  if (opt.algorithm !== ALGORITHM_AES_CMAC || opt.authenticator.length !== CMAC_TAG_LEN) {
    throw new SpaoError('BAD_OPTION', `SPAO must be AES-CMAC with a ${CMAC_TAG_LEN}-byte authenticator`);
  }
  const tag = computeSpaoCmac(key, authenticatedHeaderOf(packet), opt, loc.upperLayer, bytes.subarray(loc.upperLayerAt));
  const out = new Uint8Array(bytes);
  out.set(tag, loc.dataAt + 12);
  return out;
}
