// Rebuilt paths and their `path_headers` keys, remembered across batches. A collector's
// batches name the same few thousand paths again and again, and rebuilding one from its hop
// fields, encoding it and hashing it for its key costs more than everything else a flow
// costs the relay. Only paths the control plane vouched for are remembered, and only while
// their hop fields are valid and the control plane's view is the one they were checked
// against, as the path verifier itself remembers them: a path that did not match is asked
// about again, so a daemon's later answer is never hidden.
import { LRUCache } from 'lru-cache';
import type { FlowJudge, RebuiltPath } from '../../geofence/judge';
import type { ScionPath } from '../../proto/gen/flow/flow';
import type { StoredPath } from '../store/judged';
import { storedPath } from '../store/keys';

export interface KnownPath {
  rebuilt: RebuiltPath;
  stored: StoredPath;
}

interface Entry extends KnownPath {
  /** Unix ms after which the hop fields are no longer valid; undefined when they do not say. */
  expiresMs: number | undefined;
}

/** Keys of the paths of batches being handled: the screen and the judge key each path once. */
const keys = new WeakMap<ScionPath, string>();

/**
 * Everything of a sent path that its rebuild and its screening (screen.ts) depend on,
 * unambiguously, so a crafted path cannot take another's entry in either cache. A batch's
 * path entries are not changed once decoded, so the key is computed once per entry.
 */
export function sentPathKey(p: ScionPath): string {
  let key = keys.get(p);
  if (key === undefined) {
    // Numbers, then length-prefixed texts, then the raw bytes last: no two paths share a key.
    // (JSON would escape most bytes of the raw header, which was most of a batch's screening.)
    const raw = Buffer.from(p.raw.buffer, p.raw.byteOffset, p.raw.byteLength).toString('latin1');
    key = `${p.type}|${p.pathId}|${p.hops.length}|${p.srcIa.length}:${p.srcIa}|${p.dstIa.length}:${p.dstIa}|${p.fingerprint.length}:${p.fingerprint}|${raw}`;
    keys.set(p, key);
  }
  return key;
}

export class RebuiltPaths {
  private readonly cache: LRUCache<string, Entry>;
  private generation: number | undefined;

  constructor(max = 16_384) {
    this.cache = new LRUCache({ max });
  }

  /** The path `sent` really is (judge.rebuild) and its stored form. */
  of(judge: FlowJudge, sent: ScionPath): KnownPath {
    if (this.generation !== judge.pathsGeneration) {
      this.cache.clear();
      this.generation = judge.pathsGeneration;
    }
    const key = sentPathKey(sent);
    const hit = this.cache.get(key);
    if (hit !== undefined && (hit.expiresMs === undefined || hit.expiresMs >= Date.now())) return hit;
    const rebuilt = judge.rebuild(sent);
    const known = { rebuilt, stored: storedPath(rebuilt.path) };
    const p = rebuilt.path;
    if (p.knownToControlPlane && rebuilt.unchecked === undefined) {
      this.cache.set(key, { ...known, expiresMs: p.expiry === undefined ? undefined : Number(p.expiry.seconds) * 1000 });
    } else if (hit !== undefined) {
      this.cache.delete(key);
    }
    return known;
  }
}
