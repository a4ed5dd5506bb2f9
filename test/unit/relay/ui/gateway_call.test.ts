// The in-process call's contract with the handlers: events as grpc-js sends them, an
// 'error' with nobody listening taken as the call's end (not thrown), nothing after the end.
import assert from 'node:assert/strict';
import { status, type ServiceError } from '@grpc/grpc-js';
import { callUnary, GatewayCall, serviceError, type CallOutput } from '../../../../relay/ui/gateway_call';

function recorder(ok = true): CallOutput & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    open: () => void log.push('open'),
    message: (m) => (log.push(`message ${String(m)}`), ok),
    finish: (err) => void log.push(err ? `finish ${status[err.code]} ${err.details}` : 'finish OK'),
  };
}

const peer = { address: '127.0.0.1:1', certificate: undefined };

describe('relay/ui gateway call', () => {
  it('passes writes and their backpressure through, ends once, and says close', () => {
    const out = recorder(false);
    const call = new GatewayCall({}, peer, out);
    const events: string[] = [];
    for (const e of ['cancelled', 'close', 'drain']) call.on(e, () => events.push(e));
    call.sendMetadata();
    assert.equal(call.write('a'), false);
    call.drain();
    call.end();
    call.end();
    assert.equal(call.write('b'), false);
    call.drain();
    assert.deepEqual(out.log, ['open', 'message a', 'finish OK']);
    assert.deepEqual(events, ['drain', 'close']);
  });

  it('takes an error event as the end, whether or not a listener hears it', () => {
    const out = recorder();
    const call = new GatewayCall({}, peer, out);
    assert.doesNotThrow(() => call.emit('error', serviceError(status.PERMISSION_DENIED, 'no role')));
    assert.deepEqual(out.log, ['finish PERMISSION_DENIED no role']);
    const heard: string[] = [];
    const other = new GatewayCall({}, peer, recorder());
    other.on('error', (e: ServiceError) => heard.push(e.message));
    other.emit('error', Object.assign(new Error('plain'), {}));
    assert.deepEqual(heard, ['plain']);
  });

  it('cancels once: the handler hears cancelled and close, and nothing reaches the output after', () => {
    const out = recorder();
    const call = new GatewayCall({}, peer, out);
    const events: string[] = [];
    for (const e of ['cancelled', 'close']) call.on(e, () => events.push(e));
    call.cancel();
    call.cancel();
    assert.equal(call.cancelled, true);
    assert.equal(call.write('x'), false);
    call.end();
    assert.deepEqual(events, ['cancelled', 'close']);
    assert.deepEqual(out.log, []);
  });

  it('gives the certificate as grpc-js does, and none on plain HTTP', () => {
    const cert = { subject: { CN: 'alice' } } as never;
    assert.deepEqual(new GatewayCall({}, { address: 'a', certificate: cert }, recorder()).getAuthContext(), { transportSecurityType: 'ssl', sslPeerCertificate: cert });
    assert.deepEqual(new GatewayCall({}, peer, recorder()).getAuthContext(), {});
  });

  it('answers a unary call with its value or its error', async () => {
    assert.equal(await callUnary<number, number>((c, cb) => cb(null, c.request + 1), 1, peer), 2);
    await assert.rejects(callUnary((_c, cb) => cb(serviceError(status.UNAVAILABLE, 'down')), 1, peer), /down/);
    await assert.rejects(callUnary((c) => c.emit('error', serviceError(status.INTERNAL, 'boom')), 1, peer), /boom/);
  });
});
