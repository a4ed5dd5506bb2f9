// DaemonAuthority against a real daemon.v1 server (the in-process one over the embedded
// control plane) on loopback: it asks for the pairs flows name, remembers what it was
// handed for late flows, and matches inbound flows on reversed paths.
import assert from 'node:assert/strict';
import { DaemonPathService } from '../../../controlplane/daemon_client';
import { startDaemonServer, type DaemonServerHandle } from '../../../controlplane/daemon_server';
import { EmbeddedPathService } from '../../../controlplane/pathservice';
import { DaemonAuthority, reverseControlPath } from '../../../paths/daemon';
import { barePath } from '../../../paths/describe';
import { PathVerifier } from '../../../paths/verify';
import type { ScionPath } from '../../../proto/gen/flow/flow';
import { pathFingerprint } from '../../../scion/path/fingerprint';
import { parseIA } from '../../../scion/isdas';
import { encodeScionPathBytes } from '../../../scion/path/raw';
import { EXAMPLE_TOPOLOGY, FRANKFURT, ZURICH } from './fixture';

const T0 = 1_800_000_000;

describe('paths/daemon with a SCION daemon over gRPC', function () {
  this.timeout(20_000);
  let server: DaemonServerHandle;
  let client: DaemonPathService;
  let embedded: EmbeddedPathService;
  let now = T0;

  before(async () => {
    embedded = EmbeddedPathService.fromFile(EXAMPLE_TOPOLOGY, { now: () => T0, seed: 7 });
    server = await startDaemonServer({ service: embedded, localIA: ZURICH, address: '127.0.0.1:0' });
    client = new DaemonPathService(`127.0.0.1:${server.port}`);
  });
  after(async () => {
    client.close();
    await server.close();
  });

  const sent = (raw: Uint8Array, src = ZURICH, dst = FRANKFURT): ScionPath => ({ ...barePath(src, dst, 1), raw: Buffer.from(raw) });

  it('asks the daemon for the pairs flows name, matches outbound paths and remembers them for late flows until their expiry plus a grace', async () => {
    now = T0;
    const authority = new DaemonAuthority(client, { now: () => now, graceSeconds: 600 });
    const verifier = new PathVerifier(authority);
    const cp = embedded.pathsSync(ZURICH, FRANKFURT)[2];
    const flow = sent(encodeScionPathBytes(cp.path));
    assert.equal(verifier.verify(flow).path.knownToControlPlane, false, 'not asked yet');
    await verifier.prepare([flow]);
    const v = verifier.verify(flow).path;
    assert.equal(v.knownToControlPlane, true);
    assert.equal(v.fingerprint, cp.fingerprint);
    assert.deepEqual(v.hops.map((h) => h.country), ['CH', ...v.hops.slice(1, -1).map((h) => h.country), 'DE']);
    // Late flows of that path still match after expiry within the grace, not after it.
    const fresh = new PathVerifier(authority);
    now = cp.expiry + 599;
    assert.equal(fresh.verify(flow).path.knownToControlPlane, true);
    now = cp.expiry + 601;
    assert.equal(new PathVerifier(authority).verify(flow).path.knownToControlPlane, false);
  });

  it('matches an inbound flow on the reverse of a path the daemon hands out, with the metadata reversed', async () => {
    now = T0;
    const authority = new DaemonAuthority(client, { now: () => now });
    const verifier = new PathVerifier(authority);
    const forward = embedded.pathsSync(ZURICH, FRANKFURT).find((p) => p.segments.every((s) => s.role !== 'core'))!;
    assert.ok(forward, 'the example has a path of up and down segments only');
    const back = reverseControlPath(forward);
    const flow = sent(encodeScionPathBytes(back.path), FRANKFURT, ZURICH);
    await verifier.prepare([flow]);
    const v = verifier.verify(flow).path;
    assert.equal(v.knownToControlPlane, true);
    assert.equal(v.fingerprint, pathFingerprint([...forward.interfaces].reverse()));
    assert.deepEqual([v.srcIa, v.dstIa], ['65-2:0:20', '64-2:0:20']);
    assert.equal(v.hops[0].isdAs, '65-2:0:20');
    assert.equal(v.hops[0].country, 'DE');
  });

  it('asks about a pair no more than once per requery interval, and only about pairs with the local AS', async () => {
    let asked = 0;
    const counting = { address: client.address, local: () => client.local(), paths: (s: bigint, d: bigint) => (asked++, client.paths(s, d)) };
    const authority = new DaemonAuthority(counting, { requeryMs: 60_000 });
    const verifier = new PathVerifier(authority);
    const bogus = sent(Buffer.from(encodeScionPathBytes({ ...embedded.pathsSync(ZURICH, FRANKFURT)[0].path, hopFields: embedded.pathsSync(ZURICH, FRANKFURT)[0].path.hopFields.map((h) => ({ ...h, mac: new Uint8Array(6) })) })));
    for (let i = 0; i < 5; i++) await verifier.prepare([bogus, bogus]);
    assert.equal(asked, 1);
    const elsewhere = sent(encodeScionPathBytes(embedded.pathsSync(ZURICH, FRANKFURT)[0].path), FRANKFURT, parseIA('65-2:0:10'));
    await verifier.prepare([elsewhere]);
    assert.equal(asked, 1);
  });

  it('keeps judging when the daemon is away: nothing is vouched for, and it is not asked on every batch', async () => {
    const gone = new DaemonPathService('127.0.0.1:1', { timeoutMs: 2000 });
    const errors: string[] = [];
    try {
      const verifier = new PathVerifier(new DaemonAuthority(gone, { requeryMs: 60_000, onError: (e) => errors.push(e.message) }));
      const flow = sent(encodeScionPathBytes(embedded.pathsSync(ZURICH, FRANKFURT)[0].path));
      await verifier.prepare([flow]);
      await verifier.prepare([flow]);
      assert.equal(verifier.verify(flow).path.knownToControlPlane, false);
      assert.equal(errors.length, 1, errors.join('\n'));
    } finally {
      gone.close();
    }
  });
});

