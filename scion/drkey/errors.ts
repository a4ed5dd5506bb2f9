// Errors of the DRKey library: a stable code per way a derivation or key lookup can fail,
// so the control plane can count and report them without parsing messages.

export type DrkeyErrorCode =
  | 'BAD_SECRET'   // empty master secret or a key that is not 16 bytes
  | 'BAD_EPOCH'    // epoch begin/end out of range, reversed, or outside the spec's length bounds
  | 'BAD_PROTOCOL' // protocol id outside 0..65535
  | 'BAD_HOST'     // host address DRKey cannot encode
  | 'BAD_IA'       // ISD-AS outside 64 bits
  | 'TOO_MANY_PEERS'; // the store's peer limit is reached

export class DrkeyError extends Error {
  override readonly name = 'DrkeyError';
  constructor(
    readonly code: DrkeyErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
