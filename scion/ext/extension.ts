// Hop-by-hop (NextHdr 200) and end-to-end (NextHdr 201) options headers: NextHdr, ExtLen
// (total length in 4-byte units minus one), then TLV options filling the rest.
import { Reader, Writer } from '../bytes';
import { ScionError } from '../errors';
import type { Extension } from '../packet';
import { checkOption, decodeOptions, writeOption } from './options';

const MAX_EXT_LEN = 256 * 4;

export interface DecodedExtension {
  ext: Extension;
  nextHdr: number;
  /** Total bytes the header occupies. */
  length: number;
}

/** Decodes one options header at `at`; `end` is where the packet's payload ends. */
export function decodeExtension(r: Reader, at: number, end: number, kind: Extension['kind']): DecodedExtension {
  if (at + 2 > end) throw new ScionError('BAD_EXTENSION', `${kind} header needs 2 bytes, payload has ${end - at}`, at);
  const length = (r.u8(at + 1) + 1) * 4;
  if (at + length > end) {
    throw new ScionError('BAD_EXTENSION', `${kind} ExtLen says ${length} bytes, payload has ${end - at}`, at + 1);
  }
  const options = decodeOptions(r, at + 2, at + length, kind === 'E2E');
  return { ext: { kind, options }, nextHdr: r.u8(at), length };
}

/** Validates an extension for encoding and returns its length in bytes. */
export function checkExtension(e: Extension, what: string): number {
  if (!Array.isArray(e.options)) throw new ScionError('BAD_ARGUMENT', `${what}.options must be an array`);
  let length = 2;
  e.options.forEach((o, i) => {
    length += checkOption(o, e.kind === 'E2E', `${what}.options[${i}]`);
  });
  // The encoder never pads on its own: padding is part of the options so re-encoding is exact.
  if (length % 4 !== 0 || length > MAX_EXT_LEN) {
    throw new ScionError('BAD_ARGUMENT', `${what}: options make a ${length}-byte header; it must be a multiple of 4 up to ${MAX_EXT_LEN}`);
  }
  return length;
}

export function writeExtension(w: Writer, e: Extension, nextHdr: number, length: number): void {
  w.u8(nextHdr);
  w.u8(length / 4 - 1);
  for (const o of e.options) writeOption(w, o);
}
