// The relay's one gRPC server: its message bound, the breach it records when grpc-js refuses
// a message on its own, binding, and the graceful shutdown that forces after a grace period.
import { Server, ServerInterceptingCall, status as grpcStatus, type ServerCredentials, type ServerInterceptor } from '@grpc/grpc-js';
import type { Breaches } from './breaches';
import type { RelayLimits } from './limits';

/**
 * Sees the status every call ends with, also the ones grpc-js sends on its own before a
 * handler runs (a message over grpc.max_receive_message_length), which no handler hears of.
 */
function statusObserver(onStatus: (code: grpcStatus, details: string, peer: string) => void): ServerInterceptor {
  return (_method, call) => {
    const base = call as { sendStatus: (s: { code: grpcStatus; details: string }) => void };
    const send = base.sendStatus.bind(call);
    // grpc-js's own refusals call sendStatus on the underlying call, not through interceptors.
    base.sendStatus = (st) => {
      onStatus(st.code, st.details, call.getPeer());
      send(st);
    };
    return new ServerInterceptingCall(call);
  };
}

export function relayServer(limits: RelayLimits, breaches: Breaches): Server {
  return new Server({
    'grpc.max_receive_message_length': limits.maxMessageBytes,
    interceptors: [
      statusObserver((code, details, peer) => {
        if (code === grpcStatus.RESOURCE_EXHAUSTED && /^Received message (that decompresses to a size )?larger than/.test(details)) {
          breaches.record('message_size', details, peer);
        }
      }),
    ],
  });
}

/** Binds `listen` and returns the address actually bound (the port resolved when 0 was asked). */
export async function bindServer(server: Server, listen: string, credentials: ServerCredentials): Promise<string> {
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(listen, credentials, (err, p) => (err ? reject(err) : resolve(p))));
  return listen.replace(/:\d+$/, `:${port}`);
}

/** Lets open calls finish for `graceMs`, then ends the rest. */
export function shutdownServer(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => server.forceShutdown(), graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
