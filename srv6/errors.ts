// The one error type srv6/ throws: a stable code callers can count by, and for catalogue
// errors the YAML path of the field at fault (e.g. "nodes[2].sids[0].sid").

export type Srv6ErrorCode =
  | 'BAD_SID'            // text is no IPv6 address, or bytes are not 16 long
  | 'BAD_PREFIX'         // locator prefix malformed, length out of 0..128, or host bits set
  | 'BAD_ARGUMENT'       // a caller passed a value an encoder cannot represent
  | 'BAD_CATALOGUE'      // SID catalogue file fails validation (path names the field)
  | 'CATALOGUE_IO'       // SID catalogue file could not be read
  | 'UNKNOWN_NODE'       // a node name the catalogue does not have
  | 'NO_DECAP_SID'       // the destination node has no End.DT4/End.DT6 SID for the tenant
  | 'PATH_LIMIT';        // the bounded enumeration of simple paths hit its limit

export class Srv6Error extends Error {
  override readonly name = 'Srv6Error';
  constructor(
    readonly code: Srv6ErrorCode,
    message: string,
    /** YAML path of the offending field for catalogue errors; '' otherwise. */
    readonly path = '',
    /** "file:line" of that field when known. */
    readonly location = '',
  ) {
    super(`${location ? `${location}: ` : ''}${code}${path ? ` at ${path}` : ''}: ${message}`);
  }
}
