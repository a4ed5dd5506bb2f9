// Endpoints with their `workloads` keys, remembered across batches. A collector's batches
// name the same few hundred pods again and again, and encoding and hashing every endpoint
// of every batch for its key cost more than looking it up by its fields.
import type { Endpoint } from '../../proto/gen/flow/flow';
import type { StoredEndpoint } from '../store/judged';
import { storedEndpoint } from '../store/keys';

/** Every field the endpoint's encoding (and so its key) depends on, unambiguously. */
function endpointKey(ep: Endpoint): string {
  return JSON.stringify([ep.ID, ep.identity, ep.clusterName, ep.namespace, ep.labels, ep.podName, ep.workloads.map((w) => [w.name, w.kind])]);
}

export class KnownEndpoints {
  private readonly cache = new Map<string, StoredEndpoint>();
  /** Characters of the remembered keys: an endpoint's key is as long as its labels, up to the flow limits. */
  private chars = 0;

  constructor(
    private readonly max = 16_384,
    private readonly maxChars = 8 * 1024 * 1024,
  ) {}

  /** What storedEndpoint(ep) gives, for an endpoint of the same fields seen before from memory. */
  of(ep: Endpoint): StoredEndpoint {
    const key = endpointKey(ep);
    let hit = this.cache.get(key);
    if (hit === undefined) {
      hit = storedEndpoint(ep);
      // One endpoint larger than the whole bound is never kept, and costs the others nothing.
      if (key.length > this.maxChars) return hit;
      // Forgotten all at once when full, by count or by size: a flood of distinct or huge
      // endpoints costs one rebuild each, never more memory than the bounds.
      if (this.cache.size >= this.max || this.chars + key.length > this.maxChars) {
        this.cache.clear();
        this.chars = 0;
      }
      this.cache.set(key, hit);
      this.chars += key.length;
    }
    return hit;
  }
}
