// A SCION path on its own, without the packet headers around it: the form the SCION daemon
// hands out (daemon.v1 Path.raw) and a sender copies into its packets unchanged.
import { Reader, Writer } from '../bytes';
import type { ScionPath } from './model';
import { checkScionPath, decodeScionPath, writeScionPath } from './scion';

/** The path's wire bytes; throws ScionError BAD_ARGUMENT for a path the format cannot carry. */
export function encodeScionPathBytes(path: ScionPath): Uint8Array {
  const w = new Writer(checkScionPath(path));
  writeScionPath(w, path);
  return w.bytes;
}

/**
 * Decodes bytes that must hold exactly one SCION path, meta header first. Throws ScionError
 * (BAD_HDR_LEN when the length disagrees with SegLens, BAD_PATH for an inconsistent meta
 * header) with offsets into `bytes`.
 */
export function decodeScionPathBytes(bytes: Uint8Array): ScionPath {
  return decodeScionPath(new Reader(bytes), 0, bytes.length);
}
