// Identities by number and by their label set: what every IdentityView answers lookups from.
import type { Identity } from './allocator';
import { identityLabels } from './labels';

export class IdentityIndex {
  private readonly byNumber = new Map<number, Identity>();
  private readonly byKey = new Map<string, Identity>();

  /** Adds the identity unless its label set is taken; returns the identity holding it then. */
  add(i: Identity): Identity | undefined {
    const key = i.labels.join('\n');
    const holder = this.byKey.get(key);
    if (holder) return holder;
    this.byKey.set(key, i);
    this.byNumber.set(i.id, i);
    return undefined;
  }

  get size(): number {
    return this.byNumber.size;
  }

  lookupByLabels(namespace: string, podLabels: Readonly<Record<string, string>>): Identity | undefined {
    return this.byKey.get(identityLabels(namespace, podLabels).join('\n'));
  }

  lookupById(id: number): Identity | undefined {
    return this.byNumber.get(id);
  }

  all(): Identity[] {
    return [...this.byNumber.values()].sort((a, b) => a.id - b.id);
  }
}
