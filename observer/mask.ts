// GetFlowsRequest.field_mask: only the listed Flow fields are filled in. Paths use the
// proto field names ("source.pod_name"); going through the JSON form maps them to the
// generated fields at any depth and gives every field left out its default; the selected
// values are then copied over as they are, since JSON carries timestamps in milliseconds.
// Paths through nested messages only (the usual case, "scion_path.hops") take a direct way
// instead: the flow's selected values over a default flow built once, no JSON per flow,
// since a relay masks every flow for every follower that asked.
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

/** A path's parts as a tree: a leaf (true) takes the whole value. */
type Tree = Map<string, Tree | true>;

function addPath(tree: Tree, parts: readonly string[]): void {
  const [head, ...rest] = parts;
  if (rest.length === 0 || tree.get(head) === true) {
    tree.set(head, true);
    return;
  }
  let sub = tree.get(head);
  if (sub === undefined) tree.set(head, (sub = new Map()));
  addPath(sub as Tree, rest);
}

/** The JSON object that asks fromJSON for a default message at every inner node. */
function skeleton(tree: Tree): Json {
  const out: Json = {};
  for (const [k, sub] of tree) if (sub !== true) out[k] = skeleton(sub);
  return out;
}

/** Whether every inner node of the tree is a plain message in `template` that has each child field. */
function direct(tree: Tree, template: unknown): boolean {
  if (!isObject(template) || '$case' in template) return false;
  for (const [k, sub] of tree) {
    if (!(k in template)) return false;
    if (sub !== true && !direct(sub, template[k])) return false;
  }
  return true;
}

/**
 * `src`'s values at the tree's leaves over a copy of `template` (the defaults). Defaults that are
 * arrays are shared between outputs: a masked flow is only encoded, never changed.
 */
function copyOver(src: Json, tree: Tree, template: Json): Json {
  const out: Json = { ...template };
  for (const [k, sub] of tree) {
    const v = src[k];
    out[k] = sub === true || v === undefined ? v : copyOver(v as Json, sub, template[k] as Json);
  }
  return out;
}

/** The masking function for `paths`, or undefined when there is nothing to mask. Throws FieldMaskError. */
export function compileFieldMask(paths: readonly string[] | undefined): ((f: Flow) => Flow) | undefined {
  if (!paths || paths.length === 0) return undefined;
  const split = paths.map((p) => {
    const parts = p.split('.').map(jsonName);
    if (parts.some((x) => x === '') || !TOP_LEVEL.has(parts[0])) throw new FieldMaskError(`field mask path "${p}" names no Flow field`);
    return parts;
  });
  const tree: Tree = new Map();
  for (const parts of split) addPath(tree, parts);
  const template = Flow.fromJSON(skeleton(tree)) as unknown as Json;
  if (direct(tree, template)) return (flow) => copyOver(flow as unknown as Json, tree, template) as unknown as Flow;
  return (flow) => {
    const src = Flow.toJSON(flow) as Json;
    const out: Json = {};
    for (const parts of split) pick(src, out, parts);
    const masked = Flow.fromJSON(out);
    for (const parts of split) copyExact(flow as unknown as Json, masked as unknown as Json, parts);
    return masked;
  };
}
