// The one place the relay decides who may call what: every service is added through
// Guard.wrap, which looks at the caller's certificate before any handler runs, answers
// PERMISSION_DENIED when it lacks the service's role, and hands the handler the caller's
// identity (identityOf) so that nothing downstream has to trust what the client says.
import { Metadata, status, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { ClientIdentity, Role } from './identity';
import type { AccessPolicy } from './policy';
import { isLocalScope } from '../peers/scope';

/**
 * A role that lets a caller in: always, or only for calls in the local scope (a relay's
 * peer asks for that relay's own data only, so a peer certificate cannot read the set).
 */
export type Grant = Role | { role: Role; localScopeOnly: true };

export interface Refusal {
  service: string;
  method: string;
  peer: string;
  identity: ClientIdentity;
  /**
   * Stable label for metrics: no_role (the service's role is missing), node_mismatch (a batch
   * for another node), cluster_mismatch (a batch of another cluster than the relay's).
   */
  reason: 'no_role' | 'node_mismatch' | 'cluster_mismatch';
  message: string;
}

interface GuardedCall {
  readonly metadata: Metadata;
  getAuthContext(): { sslPeerCertificate?: PeerCertificate };
  getPeer(): string;
  emit(event: 'error', err: ServiceError): boolean;
}

type Callback = (err: ServiceError | null, value?: unknown) => void;
type Handler = (call: GuardedCall, callback?: Callback) => void;

export function permissionDenied(message: string): ServiceError {
  return Object.assign(new Error(message), { code: status.PERMISSION_DENIED, details: message, metadata: new Metadata() });
}

export class Guard {
  private readonly identities = new WeakMap<object, ClientIdentity>();

  constructor(
    private readonly policy: AccessPolicy,
    private readonly tls: boolean,
    private readonly onRefused: (r: Refusal) => void,
  ) {}

  /** `impl` with every method of `def` refused unless the caller's certificate has one of the grants. */
  wrap<T extends object>(def: ServiceDefinition, grants: Grant | readonly Grant[], impl: T): T {
    const list = (Array.isArray(grants) ? grants : [grants]) as readonly Grant[];
    const admits = (id: ClientIdentity, call: GuardedCall): boolean =>
      list.some((g) => (typeof g === 'string' ? id.roles.has(g) : id.roles.has(g.role) && isLocalScope(call.metadata)));
    const handlers = impl as unknown as Record<string, Handler>;
    const out: Record<string, Handler> = {};
    for (const [key, method] of Object.entries(def)) {
      const handler = handlers[key];
      if (typeof handler !== 'function') continue;
      const [, serviceName, methodName] = method.path.split('/');
      out[key] = (call, callback) => {
        const id = this.policy.identify(this.tls, call.getAuthContext().sslPeerCertificate);
        if (!admits(id, call)) {
          const message = refusalMessage(id, `${serviceName}/${methodName}`, list);
          this.refuse({ service: serviceName, method: methodName, peer: call.getPeer(), identity: id, reason: 'no_role', message });
          const err = permissionDenied(message);
          if (method.responseStream) call.emit('error', err);
          else callback?.(err);
          return;
        }
        this.identities.set(call, id);
        handler.call(impl, call, callback);
      };
    }
    return out as unknown as T;
  }

  /** The identity Guard.wrap established for this call. */
  identityOf(call: object): ClientIdentity {
    const id = this.identities.get(call);
    if (!id) throw new Error('call did not pass through Guard.wrap');
    return id;
  }

  /** Records a refusal decided inside a service (a batch for another node), for logs and metrics. */
  refuse(r: Refusal): void {
    this.onRefused(r);
  }
}

function refusalMessage(id: ClientIdentity, what: string, grants: readonly Grant[]): string {
  const who = id.name !== '' ? `certificate "${id.name}"` : 'the client certificate';
  const has = id.roles.size > 0 ? `it has ${[...id.roles].sort().join(', ')}` : `it grants no role${id.notes.length ? ` (${id.notes.join('; ')})` : ''}`;
  const needs = grants.map((g) => (typeof g === 'string' ? `the ${g} role` : `the ${g.role} role in the local scope (header cillion-scope: local)`)).join(' or ');
  return `${who} may not call ${what}: that needs ${needs}, ${has}`;
}
