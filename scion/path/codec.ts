// Chooses the path codec by the common header's PathType.
import { Reader, Writer } from '../bytes';
import { ScionError } from '../errors';
import { decodeEmptyPath } from './empty';
import { checkEpicPath, decodeEpicPath, writeEpicPath } from './epic';
import type { Path, PathTypeName } from './model';
import { checkOneHopPath, decodeOneHopPath, writeOneHopPath } from './onehop';
import { checkScionPath, decodeScionPath, writeScionPath } from './scion';

/** PathType numbers; 4 (COLIBRI) and others are not decodable here. */
export const PATH_TYPE_NUMBER: Record<PathTypeName, number> = { Empty: 0, SCION: 1, OneHop: 2, EPIC: 3 };

/**
 * Decodes the path of type `pathType` from the `length` bytes that HdrLen leaves for it.
 * `typeOffset` is where the PathType byte sits, for the error.
 */
export function decodePath(r: Reader, pathType: number, at: number, length: number, typeOffset: number): Path {
  switch (pathType) {
    case 0:
      return decodeEmptyPath(at, length);
    case 1:
      return decodeScionPath(r, at, length);
    case 2:
      return decodeOneHopPath(r, at, length);
    case 3:
      return decodeEpicPath(r, at, length);
    default:
      throw new ScionError('BAD_PATH_TYPE', `path type ${pathType} is not one of Empty, SCION, OneHop, EPIC`, typeOffset);
  }
}

/** Validates a path for encoding and returns its length in bytes. */
export function checkPath(p: Path): number {
  switch (p?.type) {
    case 'Empty':
      return 0;
    case 'SCION':
      return checkScionPath(p);
    case 'OneHop':
      return checkOneHopPath(p);
    case 'EPIC':
      return checkEpicPath(p);
    default:
      throw new ScionError('BAD_ARGUMENT', `unknown path type ${String((p as { type?: unknown })?.type)}`);
  }
}

export function writePath(w: Writer, p: Path): void {
  switch (p.type) {
    case 'Empty':
      return;
    case 'SCION':
      return writeScionPath(w, p);
    case 'OneHop':
      return writeOneHopPath(w, p);
    case 'EPIC':
      return writeEpicPath(w, p);
  }
}
