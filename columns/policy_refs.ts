// Flow.ingress_denied_by / egress_denied_by as one text per flow, for the export columns and
// the store: each policy as "kind/namespace/name", several joined by newlines. Kind and
// namespace hold no "/" (Kubernetes kinds and namespaces cannot), a name may. Labels and
// revision are not carried: Cillion's datapath names a policy by kind and name only.
import type { Policy } from '../proto/gen/flow/flow';

export function policyRefs(ps: readonly Policy[]): string {
  return ps.map((p) => `${p.kind}/${p.namespace}/${p.name}`).join('\n');
}

export function parsePolicyRefs(s: string): Policy[] {
  if (s === '') return [];
  return s.split('\n').map((ref) => {
    const a = ref.indexOf('/');
    const b = a < 0 ? -1 : ref.indexOf('/', a + 1);
    // Not written by policyRefs (a store edited by hand): the whole text names the policy.
    if (b < 0) return { name: ref, namespace: '', labels: [], revision: 0n, kind: '' };
    return { kind: ref.slice(0, a), namespace: ref.slice(a + 1, b), name: ref.slice(b + 1), labels: [], revision: 0n };
  });
}
