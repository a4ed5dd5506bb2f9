// GetFlowsRequest.field_mask: only the listed Flow fields are filled in. Paths use the
// proto field names ("source.pod_name"); going through the JSON form maps them to the
// generated fields at any depth and gives every field left out its default; the selected
// values are then copied over as they are, since JSON carries timestamps in milliseconds.
import { Flow } from '../proto/gen/flow/flow';

export class FieldMaskError extends Error {}

const TOP_LEVEL = new Set(Object.keys(Flow.fromPartial({})));

/** proto field name to JSON name: lower_snake parts joined in camel case, other names as they are. */
function jsonName(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pick(src: Json, dst: Json, path: readonly string[]): void {
  const [head, ...rest] = path;
  if (!(head in src)) return;
  if (rest.length === 0) {
    dst[head] = src[head];
    return;
  }
  const child = src[head];
  if (!isObject(child)) return;
  const into = isObject(dst[head]) ? (dst[head] as Json) : (dst[head] = {});
  pick(child, into, rest);
}

function copyExact(src: Json, dst: Json, path: readonly string[]): void {
  let s: unknown = src;
  let d: unknown = dst;
  for (const key of path.slice(0, -1)) {
    if (!isObject(s) || !isObject(d)) return;
    s = s[key];
    d = d[key];
  }
  const leaf = path[path.length - 1];
  if (isObject(s) && isObject(d) && leaf in s) d[leaf] = s[leaf];
}

/** The masking function for `paths`, or undefined when there is nothing to mask. Throws FieldMaskError. */
export function compileFieldMask(paths: readonly string[] | undefined): ((f: Flow) => Flow) | undefined {
  if (!paths || paths.length === 0) return undefined;
  const split = paths.map((p) => {
    const parts = p.split('.').map(jsonName);
    if (parts.some((x) => x === '') || !TOP_LEVEL.has(parts[0])) throw new FieldMaskError(`field mask path "${p}" names no Flow field`);
    return parts;
  });
  return (flow) => {
    const src = Flow.toJSON(flow) as Json;
    const out: Json = {};
    for (const parts of split) pick(src, out, parts);
    const masked = Flow.fromJSON(out);
    for (const parts of split) copyExact(flow as unknown as Json, masked as unknown as Json, parts);
    return masked;
  };
}
