// Assigned SCION protocol numbers (assigned-protocol-numbers.rst) that the codec dispatches on.
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_HBH = 200;
export const PROTO_E2E = 201;
export const PROTO_SCMP = 202;
