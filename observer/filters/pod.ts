// source_pod, destination_pod, source_service, destination_service: "[namespace/][prefix]"
// as Hubble reads it: "ns/" is every pod of a namespace, "ns/api" every pod whose name starts
// with "api"; without a namespace the pod is looked for in "default", as kubectl would.
import type { Flow } from '../../proto/gen/flow/flow';
import { FilterError } from './error';
import type { FilterBuilder, Predicate } from './predicate';

type Named = { namespace: string; name: string } | undefined;

function byNamespacedName(field: string, values: string[], get: (f: Flow) => Named): Predicate {
  const wanted = values.map((v) => {
    const slash = v.indexOf('/');
    const ns = slash < 0 ? 'default' : v.slice(0, slash);
    const prefix = slash < 0 ? v : v.slice(slash + 1);
    if (ns === '' || (slash < 0 && prefix === '')) throw new FilterError(`${field}: want [namespace/][name prefix], got "${v}"`);
    return { ns, prefix };
  });
  return (flow) => {
    const got = get(flow);
    if (!got || (!got.namespace && !got.name)) return false;
    return wanted.some((w) => w.ns === got.namespace && got.name.startsWith(w.prefix));
  };
}

export const podFilter: FilterBuilder = (ff) => {
  const out: Predicate[] = [];
  const pod = (f: Flow, side: 'source' | 'destination'): Named => {
    const ep = f[side];
    return ep && { namespace: ep.namespace, name: ep.podName };
  };
  if (ff.sourcePod.length) out.push(byNamespacedName('source_pod', ff.sourcePod, (f) => pod(f, 'source')));
  if (ff.destinationPod.length) out.push(byNamespacedName('destination_pod', ff.destinationPod, (f) => pod(f, 'destination')));
  if (ff.sourceService.length) out.push(byNamespacedName('source_service', ff.sourceService, (f) => f.sourceService));
  if (ff.destinationService.length) {
    out.push(byNamespacedName('destination_service', ff.destinationService, (f) => f.destinationService));
  }
  return out;
};
