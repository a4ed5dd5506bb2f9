// The one error type every decoder in scion/ throws: a stable code plus the byte offset
// where parsing stopped, so callers can count drops by reason and point at the bad byte.

export type ScionErrorCode =
  | 'TRUNCATED'          // fewer bytes than a field or a declared length needs
  | 'BAD_VERSION'        // common header version is not 0
  | 'BAD_HDR_LEN'        // HdrLen disagrees with the headers actually present
  | 'BAD_PAYLOAD_LEN'    // PayloadLen disagrees with the bytes after the header
  | 'BAD_ADDR'           // address type/length combination SCION does not define
  | 'BAD_PATH_TYPE'      // path type unknown or not decodable here
  | 'BAD_PATH'           // path meta header inconsistent (SegLens, CurrINF/CurrHF)
  | 'BAD_EXTENSION'      // extension header length or TLV option overruns its header
  | 'BAD_L4'             // L4 header inconsistent with its own length fields
  | 'BAD_ISD_AS'         // ISD-AS text or value out of range
  | 'BAD_ARGUMENT';      // a caller passed a value the encoder cannot represent

export class ScionError extends Error {
  override readonly name = 'ScionError';
  constructor(
    readonly code: ScionErrorCode,
    message: string,
    /** Byte offset in the decoded buffer where the problem was found; -1 when not a decode. */
    readonly offset = -1,
  ) {
    super(offset >= 0 ? `${code} at offset ${offset}: ${message}` : `${code}: ${message}`);
  }
}
