// Workloads of the embedded mode: Pod and Namespace objects (apiVersion v1) in YAML files,
// as `kubectl get -o yaml` would print them, reduced to what the operator reads: the pod's
// name, namespace, labels, spec.nodeName and status.podIP, and the namespace's labels.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Workload } from '../../identity/workload';

export class WorkloadFileError extends Error {
  readonly code = 'BAD_WORKLOAD';
  constructor(readonly origin: string, message: string) {
    super(`${origin}: ${message}`);
    this.name = 'WorkloadFileError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function labelsOf(meta: Obj, origin: string): Record<string, string> {
  const labels = meta.labels ?? {};
  if (!isObj(labels) || Object.values(labels).some((v) => typeof v !== 'string')) throw new WorkloadFileError(origin, 'metadata.labels must map strings to strings');
  return labels as Record<string, string>;
}

/** Every Pod in the files of `path` (a file or a directory), with its namespace's labels. */
export function readWorkloads(path: string): Workload[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => /^[^.].*\.ya?ml$/.test(f))
        .sort()
        .map((f) => join(path, f))
    : [path];
  const pods: Array<{ obj: Obj; origin: string }> = [];
  const namespaces = new Map<string, Record<string, string>>();
  for (const file of files) {
    parseAllDocuments(readFileSync(file, 'utf8')).forEach((doc, i) => {
      const origin = `${file}#${i + 1}`;
      if (doc.errors.length > 0) throw new WorkloadFileError(origin, doc.errors[0].message);
      const obj = doc.toJS() as unknown;
      if (obj === null) return;
      if (!isObj(obj) || !isObj(obj.metadata) || typeof obj.metadata.name !== 'string') throw new WorkloadFileError(origin, 'not an object with metadata.name');
      if (obj.kind === 'Namespace') namespaces.set(obj.metadata.name, labelsOf(obj.metadata, origin));
      else if (obj.kind === 'Pod') pods.push({ obj, origin });
      else throw new WorkloadFileError(origin, `kind ${String(obj.kind)} is neither Pod nor Namespace`);
    });
  }
  return pods.map(({ obj, origin }) => {
    const meta = obj.metadata as Obj;
    const namespace = typeof meta.namespace === 'string' ? meta.namespace : 'default';
    const ip = isObj(obj.status) ? obj.status.podIP : undefined;
    const node = isObj(obj.spec) ? obj.spec.nodeName : undefined;
    if (typeof ip !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw new WorkloadFileError(origin, 'status.podIP must be an IPv4 address');
    if (typeof node !== 'string') throw new WorkloadFileError(origin, 'spec.nodeName is required');
    return {
      name: meta.name as string,
      namespace,
      labels: labelsOf(meta, origin),
      // Kubernetes sets this label on every namespace; selectors rely on it.
      namespaceLabels: { 'kubernetes.io/metadata.name': namespace, ...(namespaces.get(namespace) ?? {}) },
      ip,
      node,
    };
  });
}
