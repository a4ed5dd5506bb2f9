// TLV options of the hop-by-hop and end-to-end options headers (extension-header.rst).
// Pad1 is a lone type byte; every other option is OptType, OptDataLen, OptData.
import { checkBytes, checkUint, Reader, Writer } from '../bytes';
import { ScionError } from '../errors';
import type { ExtOption } from '../packet';

export const OPT_PAD1 = 0;
export const OPT_PADN = 1;
/** SCION Packet Authenticator Option; assigned for end-to-end options only. */
export const OPT_SPAO = 2;
/** SPI, Algorithm, RSV and the 48-bit Timestamp / Sequence Number before the authenticator. */
const SPAO_META_LEN = 12;
const MAX_OPT_DATA = 0xff;

/** Decodes the options in [at, end) of a header of the given kind. */
export function decodeOptions(r: Reader, at: number, end: number, e2e: boolean): ExtOption[] {
  const options: ExtOption[] = [];
  let p = at;
  while (p < end) {
    const type = r.u8(p);
    if (type === OPT_PAD1) {
      options.push({ kind: 'Pad1', type: OPT_PAD1 });
      p += 1;
      continue;
    }
    if (p + 2 > end) throw new ScionError('BAD_EXTENSION', `option ${type} has no length byte before the header ends`, p);
    const dataLen = r.u8(p + 1);
    const data = p + 2;
    if (data + dataLen > end) {
      throw new ScionError('BAD_EXTENSION', `option ${type} with ${dataLen} data bytes overruns its header`, p + 1);
    }
    if (type === OPT_PADN) {
      options.push({ kind: 'PadN', type: OPT_PADN, data: r.copy(data, dataLen) });
    } else if (type === OPT_SPAO && e2e) {
      if (dataLen < SPAO_META_LEN) {
        throw new ScionError('BAD_EXTENSION', `SPAO needs at least ${SPAO_META_LEN} data bytes, has ${dataLen}`, p + 1);
      }
      options.push({
        kind: 'SPAO',
        type: OPT_SPAO,
        spi: r.u32(data),
        algorithm: r.u8(data + 4),
        timestampSeq: r.u48(data + 6),
        authenticator: r.copy(data + SPAO_META_LEN, dataLen - SPAO_META_LEN),
      });
    } else {
      options.push({ kind: 'Raw', type, data: r.copy(data, dataLen) });
    }
    p = data + dataLen;
  }
  return options;
}

/** Validates one option for a header of the given kind and returns its size on the wire. */
export function checkOption(o: ExtOption, e2e: boolean, what: string): number {
  switch (o?.kind) {
    case 'Pad1':
      return 1;
    case 'PadN':
      return 2 + checkData(o.data, what).length;
    case 'SPAO':
      if (!e2e) throw new ScionError('BAD_ARGUMENT', `${what}: SPAO is an end-to-end option`);
      checkUint(o.spi, 0xffff_ffff, `${what}.spi`);
      checkUint(o.algorithm, 0xff, `${what}.algorithm`);
      checkUint(o.timestampSeq, 2 ** 48 - 1, `${what}.timestampSeq`);
      checkBytes(o.authenticator, `${what}.authenticator`);
      if (SPAO_META_LEN + o.authenticator.length > MAX_OPT_DATA) {
        throw new ScionError('BAD_ARGUMENT', `${what}: authenticator longer than ${MAX_OPT_DATA - SPAO_META_LEN} bytes`);
      }
      return 2 + SPAO_META_LEN + o.authenticator.length;
    case 'Raw': {
      checkUint(o.type, 0xff, `${what}.type`);
      // These types decode as their own kinds, so a raw one would not survive a round trip.
      if (o.type === OPT_PAD1 || o.type === OPT_PADN || (o.type === OPT_SPAO && e2e)) {
        throw new ScionError('BAD_ARGUMENT', `${what}: option type ${o.type} has its own kind`);
      }
      return 2 + checkData(o.data, what).length;
    }
    default:
      throw new ScionError('BAD_ARGUMENT', `${what}: unknown option kind`);
  }
}

function checkData(data: unknown, what: string): Uint8Array {
  const b = checkBytes(data, `${what}.data`);
  if (b.length > MAX_OPT_DATA) throw new ScionError('BAD_ARGUMENT', `${what}: more than ${MAX_OPT_DATA} data bytes`);
  return b;
}

export function writeOption(w: Writer, o: ExtOption): void {
  w.u8(o.type);
  if (o.kind === 'Pad1') return;
  if (o.kind === 'SPAO') {
    w.u8(SPAO_META_LEN + o.authenticator.length);
    writeSpaoData(w, o);
    return;
  }
  w.u8(o.data.length);
  w.put(o.data);
}

function writeSpaoData(w: Writer, o: Extract<ExtOption, { kind: 'SPAO' }>): void {
  w.u32(o.spi);
  w.u8(o.algorithm);
  w.u8(0);
  w.u48(o.timestampSeq);
  w.put(o.authenticator);
}

/** The OptData bytes of an option as they appear on the wire (empty for Pad1). */
export function optionData(o: ExtOption): Uint8Array {
  switch (o.kind) {
    case 'Pad1':
      return new Uint8Array(0);
    case 'SPAO': {
      const w = new Writer(SPAO_META_LEN + o.authenticator.length);
      writeSpaoData(w, o);
      return w.bytes;
    }
    default:
      return o.data;
  }
}
