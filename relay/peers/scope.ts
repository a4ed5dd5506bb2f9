// The scope of a call between relays: a relay asked by a peer answers from its own data only,
// so fan-out is one level deep and two relays can never loop.
import { Metadata } from '@grpc/grpc-js';

export const SCOPE_HEADER = 'cillion-scope';
export const LOCAL_SCOPE = 'local';

export function localScope(): Metadata {
  const md = new Metadata();
  md.set(SCOPE_HEADER, LOCAL_SCOPE);
  return md;
}

export function isLocalScope(md: Metadata): boolean {
  return md.get(SCOPE_HEADER)[0] === LOCAL_SCOPE;
}
