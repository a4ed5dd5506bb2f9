// `cillion relay`'s peer flags: every mistake a clear error before anything is opened.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { checkCluster, peerOptions, parsePeer, type PeerFlags } from '../../../../relay/peers/config';
import { MAX_PEERS, PeerConfigError, PeerSet } from '../../../../relay/peers/peer_set';
import { credentials } from '@grpc/grpc-js';

const base: PeerFlags = { name: 'a', tls: false, storeUrl: false };

async function refused(f: Partial<PeerFlags>, message: RegExp): Promise<void> {
  await assert.rejects(peerOptions({ ...base, ...f }), (e: Error) => e instanceof PeerConfigError && message.test(e.message));
}

describe('relay peer flags', () => {
  it('parses name=host:port', () => {
    assert.deepEqual(parsePeer('b=10.0.0.2:4245'), { name: 'b', address: '10.0.0.2:4245' });
    assert.deepEqual(parsePeer('relay-1.zurich=[::1]:4245'), { name: 'relay-1.zurich', address: '[::1]:4245' });
  });

  it("leaves out the entry bearing the relay's own --name, as every replica of a StatefulSet gets the same list", async () => {
    const own = await peerOptions({ ...base, peer: ['a=127.0.0.1:1', 'b=127.0.0.1:2'] });
    assert.deepEqual(own?.targets, [{ name: 'b', address: '127.0.0.1:2' }]);
    assert.equal(await peerOptions({ ...base, peer: ['a=127.0.0.1:1'] }), undefined);
  });

  it('refuses what does not fit', async () => {
    await refused({ peer: ['127.0.0.1:4245'] }, /expected name=host:port/);
    await refused({ peer: ['b=127.0.0.1'] }, /is not host:port/);
    await refused({ peer: ['b=127.0.0.1:70000'] }, /is not host:port/);
    await refused({ peer: ['b_1=127.0.0.1:1'] }, /--peer name "b_1"/);
    await refused({ peer: ['b=127.0.0.1:1', 'b=127.0.0.1:2'] }, /--peer b is given twice/);
    await refused({ peerCert: 'x' }, /--peer-cert goes with --peer/);
    await refused({ sharedStore: true }, /--shared-store goes with --peer/);
    await refused({ peer: ['b=127.0.0.1:1'], sharedStore: true }, /--shared-store needs --clickhouse-url/);
    await refused({ peer: ['b=127.0.0.1:1'], peerCert: 'c.pem' }, /give --peer-cert and --peer-key together/);
    await refused({ peer: ['b=127.0.0.1:1'], peerCa: 'ca.pem' }, /--peer-ca and --peer-server-name go with --peer-cert/);
    await refused({ peer: ['b=127.0.0.1:1'], peerCert: 'c.pem', peerKey: 'c.key' }, /TLS peers need the CA/);
    await refused({ peer: ['b=127.0.0.1:1'], tls: true }, /this relay speaks TLS, so do its peers/);
    await refused({ peer: ['b=10.0.0.2:1'] }, /not on loopback/);
    await refused({ peer: ['b=127.0.0.1:1'], peerTimeout: 0 }, /--peer-timeout 0/);
    await refused({ peer: ['b=127.0.0.1:1'], peerCert: '/nonexistent.pem', peerKey: '/nonexistent.key', peerCa: '/nonexistent-ca.pem' }, /nonexistent/);
  });

  it(`takes at most ${MAX_PEERS} peers`, async () => {
    const many = [...Array(MAX_PEERS + 1).keys()].map((i) => `p${i}=127.0.0.1:${1000 + i}`);
    await refused({ peer: many }, new RegExp(`${MAX_PEERS + 1} --peer flags; a relay fans out to at most ${MAX_PEERS}`));
    const targets = many.map(parsePeer);
    assert.throws(() => new PeerSet({ targets, credentials: credentials.createInsecure(), timeoutMs: 100, sharedStore: false }), /at most 64/);
    const ok = await peerOptions({ ...base, peer: many.slice(0, MAX_PEERS) });
    assert.equal(ok?.targets.length, MAX_PEERS);
    assert.equal(ok?.timeoutMs, 2000);
  });

  it('stops `cillion relay` with the message, exit code 1', async function () {
    this.timeout(60_000);
    const root = resolve(__dirname, '..', '..', '..', '..');
    const run = (args: string[]) =>
      new Promise<{ code: number; stderr: string }>((done) =>
        execFile(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', 'relay', '--no-ui', '--listen', '127.0.0.1:0', '--metrics', '', '--data-dir', '/nonexistent-cillion', ...args], { cwd: root }, (err, _o, stderr) =>
          done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }),
        ),
      );
    const r = await run(['--peer', 'b=127.0.0.1:4300', '--peer', 'b=127.0.0.1:4301']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cillion relay: --peer b is given twice/);
    const bad = await run(['--cluster', 'zurich/x']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--cluster "zurich\/x": letters, digits/);
  });

  it('reserves the cluster name "relay", which names the peers in reports', () => {
    assert.equal(checkCluster('--cluster', 'zurich'), 'zurich');
    for (const name of ['relay', 'Relay']) assert.throws(() => checkCluster('--cluster', name), (e: Error) => e instanceof PeerConfigError && /"relay\/<peer name>"/.test(e.message) && e.message.includes(`"${name}" is reserved`));
  });
});
