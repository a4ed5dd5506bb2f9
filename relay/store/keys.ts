// The keys of the `workloads` and `path_headers` tables: the first 8 bytes (big-endian) of
// the SHA-256 of the encoded message, so one endpoint or path has one key on every relay.
import { createHash } from 'node:crypto';
import { Endpoint, ScionPath } from '../../proto/gen/flow/flow';

function keyOf(encoded: Uint8Array): bigint {
  return createHash('sha256').update(encoded).digest().readBigUInt64BE(0);
}

export function endpointKey(e: Endpoint): bigint {
  return keyOf(Endpoint.encode(e).finish());
}

export function pathKey(p: ScionPath): bigint {
  return keyOf(ScionPath.encode(p).finish());
}
