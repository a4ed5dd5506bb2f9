// The keys of the `workloads` and `path_headers` tables: the first 8 bytes (big-endian) of
// the SHA-256 of the encoded message, so one endpoint or path has one key on every relay.
import { createHash } from 'node:crypto';
import { Endpoint, ScionPath } from '../../proto/gen/flow/flow';
import type { StoredEndpoint, StoredPath } from './judged';
import { appOf } from './rows';

function keyOf(encoded: Uint8Array): bigint {
  return createHash('sha256').update(encoded).digest().readBigUInt64BE(0);
}

export function storedEndpoint(ep: Endpoint): StoredEndpoint {
  return { key: keyOf(Endpoint.encode(ep).finish()), endpoint: ep, app: appOf(ep) };
}

export function storedPath(path: ScionPath): StoredPath {
  return { key: keyOf(ScionPath.encode(path).finish()), path };
}
