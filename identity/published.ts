// Where an allocator resumes from when its allocation is also published elsewhere (on
// Kubernetes, as CillionIdentity objects): its own state file may be missing (a new pod's
// empty volume) or stale (a replica that led before, while another led in between and
// numbered new pods). What was published is what every node programs, so it wins: each
// published number keeps its labels, and a number or label set of the file that contradicts
// it is dropped. What only the file holds stays (a state file from before publishing, or a
// write that never reached the API server), with the grace time the file gave it.
import type { Identity } from './allocator';
import type { StoredIdentity } from './state_file';

export interface Resumed {
  identities: StoredIdentity[];
  /** File entries dropped because a published identity contradicts them. */
  dropped: number;
  /** Whether the result differs from the file. */
  changed: boolean;
}

export function resumeFromPublished(file: readonly StoredIdentity[], published: readonly Identity[]): Resumed {
  const fileById = new Map(file.map((s) => [s.id, s]));
  const ids = new Set<number>();
  const keys = new Set<string>();
  const out: StoredIdentity[] = [];
  for (const p of published) {
    const key = p.labels.join('\n');
    if (ids.has(p.id) || keys.has(key)) continue;
    ids.add(p.id);
    keys.add(key);
    const f = fileById.get(p.id);
    // A published number starts its grace period afresh unless the file knew it with these labels.
    const released = f && f.labels.join('\n') === key ? f.releasedAt : undefined;
    out.push({ id: p.id, labels: [...p.labels], ...(released !== undefined ? { releasedAt: released } : {}) });
  }
  const taken = new Map(out.map((o) => [o.id, o.labels.join('\n')]));
  let dropped = 0;
  for (const f of file) {
    const key = f.labels.join('\n');
    const holder = taken.get(f.id);
    if (holder === key) continue;
    if (holder !== undefined || keys.has(key)) dropped++;
    else out.push(f);
  }
  out.sort((a, b) => a.id - b.id);
  const canonical = (l: readonly StoredIdentity[]) => JSON.stringify([...l].sort((a, b) => a.id - b.id));
  return { identities: out, dropped, changed: canonical(out) !== canonical(file) };
}
