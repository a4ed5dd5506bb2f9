// Path type Empty: zero bytes, for traffic that stays inside the source AS.
import { ScionError } from '../errors';
import type { EmptyPath } from './model';

export function decodeEmptyPath(at: number, length: number): EmptyPath {
  if (length !== 0) {
    throw new ScionError('BAD_HDR_LEN', `an empty path has no bytes but HdrLen leaves ${length}`, at);
  }
  return { type: 'Empty' };
}
