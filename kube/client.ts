// @kubernetes/client-node 1.x ships only as an ES module. Node >= 20.19 (this project's
// engines floor) loads ES modules through require(), but TypeScript's node16 module mode
// rejects such an import in a CommonJS file, so the types come in through an import type
// with resolution-mode and the value through a plain require.
import type * as ClientNode from '@kubernetes/client-node' with { 'resolution-mode': 'import' };

export type K8s = typeof ClientNode;
export type { ClientNode };

export const k8s = require('@kubernetes/client-node') as K8s;

/** HTTP status of a client-node error, when the API server answered. */
export function httpCode(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, statusCode } = e as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  return typeof statusCode === 'number' ? statusCode : undefined;
}
