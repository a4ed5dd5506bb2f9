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

  constructor(private readonly max = 16_384) {}

  /** What storedEndpoint(ep) gives, for an endpoint of the same fields seen before from memory. */
  of(ep: Endpoint): StoredEndpoint {
    const key = endpointKey(ep);
    let hit = this.cache.get(key);
    if (hit === undefined) {
      // Forgotten all at once when full: a flood of distinct endpoints costs one rebuild each.
      if (this.cache.size >= this.max) this.cache.clear();
      hit = storedEndpoint(ep);
      this.cache.set(key, hit);
    }
    return hit;
  }
}
