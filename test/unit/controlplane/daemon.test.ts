// DaemonPathService against the in-process daemon.v1 server over loopback, both backed by
// the embedded control plane over examples/topology.yaml: what comes through the daemon
// API must be what the embedded service answers directly.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client, credentials, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { parseIA, type IA } from '../../../scion/isdas';
import { encodeScionPathBytes } from '../../../scion/path/raw';
import { DaemonServiceService, PathsRequest, PathsResponse } from '../../../proto/gen/daemon/v1/daemon';
import type { ControlPlanePath } from '../../../controlplane/combinator';
import { DaemonPathService } from '../../../controlplane/daemon_client';
import { pathToProto } from '../../../controlplane/daemon_convert';
import { DaemonError, type DaemonErrorCode } from '../../../controlplane/daemon_error';
import { startDaemonServer, type DaemonServerHandle } from '../../../controlplane/daemon_server';
import { EmbeddedPathService, type PathService } from '../../../controlplane/pathservice';
import { assertPathVerifies } from './verify';

const EXAMPLE = join(__dirname, '../../../examples/topology.yaml');
const T0 = 1_700_000_000;
const ZURICH = parseIA('64-2:0:20');
const FRANKFURT = parseIA('65-2:0:20');
const ZURICH_CORE = parseIA('64-2:0:10');
const FRANKFURT_CORE = parseIA('65-2:0:10');

const embedded = (): EmbeddedPathService => EmbeddedPathService.fromFile(EXAMPLE, { now: () => T0, seed: 42 });
const daemonError = (code: DaemonErrorCode) => (e: unknown) => e instanceof DaemonError && e.code === code;
const crosses = (p: ControlPlanePath, ia: IA, ifid: number): boolean => p.interfaces.some((i) => i.ia === ia && i.ifid === ifid);

/** What daemon.v1 carries of a path, plus what the client recovers from it: everything but segments and geo countries. */
function viaDaemon(p: ControlPlanePath): ControlPlanePath {
  return {
    ...p,
    geo: p.geo.map((g) => (g === null ? null : { latitude: g.latitude, longitude: g.longitude, address: g.address })),
    segments: [],
  };
}

function assertSamePaths(got: ControlPlanePath[], want: ControlPlanePath[], label: string): void {
  assert.equal(got.length, want.length, `${label}: number of paths`);
  got.forEach((g, i) => {
    const w = want[i];
    assert.deepEqual(Buffer.from(encodeScionPathBytes(g.path)), Buffer.from(encodeScionPathBytes(w.path)), `${label} #${i}: raw path`);
    assert.equal(g.fingerprint, w.fingerprint, `${label} #${i}: fingerprint`);
    assert.deepEqual({ ...g, path: null }, { ...viaDaemon(w), path: null }, `${label} #${i}: metadata`);
  });
}

describe('controlplane daemon.v1: DaemonPathService against the in-process daemon server', function () {
  let direct: EmbeddedPathService;
  let server: DaemonServerHandle;
  let client: DaemonPathService;

  before(async () => {
    direct = embedded();
    server = await startDaemonServer({ service: direct, localIA: ZURICH, address: '127.0.0.1:0' });
    client = new DaemonPathService(`127.0.0.1:${server.port}`);
  });

  after(async () => {
    client?.close();
    await server?.close();
  });

  it('round-trips every path from the Zurich cluster to the Frankfurt cluster exactly', async () => {
    const want = await direct.paths(ZURICH, FRANKFURT);
    const got = await client.paths(ZURICH, FRANKFURT);
    assert.ok(want.length >= 10, `${want.length} paths`);
    assertSamePaths(got, want, 'Zurich > Frankfurt');
    // Spot-check against the topology file rather than only against the embedded answer.
    const fastest = got.find((p) => p.ases.length === 4 && p.interfaces[1].ia === ZURICH_CORE && p.interfaces[3].ia === FRANKFURT_CORE)!;
    assert.deepEqual(fastest.nextHop, { ifid: 1, underlay: '10.64.20.1:50001' });
    assert.deepEqual(fastest.geo[0], { latitude: 47.39, longitude: 8.515, address: 'Zurich-West, Switzerland' });
    assert.deepEqual(fastest.linkRelations, ['PARENT', 'CORE', 'CHILD']);
    assert.deepEqual(fastest.linkTypes, ['direct', 'direct', 'direct']);
    assert.deepEqual([fastest.latencyMs[0], fastest.latencyMs[2], fastest.latencyMs[4]], [0.3, 4, 0.3]);
    assert.equal(fastest.minBandwidthKbps, 10_000_000);
    assert.equal(fastest.expiry, T0 + 64 * 337.5);
    const peering = got.find((p) => p.linkRelations.includes('PEER'))!;
    assert.deepEqual(peering.ases, [ZURICH, parseIA('64-2:0:21'), parseIA('65-2:0:21'), FRANKFURT]);
    assert.deepEqual(peering.linkRelations, ['PARENT', 'PEER', 'CHILD']);
  });

  it('recovers which AS issued each hop field, so every path verifies hop by hop', async () => {
    for (const p of await client.paths(ZURICH, FRANKFURT)) assertPathVerifies(direct.topology, p);
  });

  it('round-trips the paths to every AS of the topology, including the empty path to itself', async () => {
    for (const dst of direct.topology.ases.keys()) {
      assertSamePaths(await client.paths(ZURICH, dst), await direct.paths(ZURICH, dst), `Zurich > ${dst}`);
    }
    const [local] = await client.paths(ZURICH, ZURICH);
    assert.deepEqual({ interfaces: local.interfaces, nextHop: local.nextHop, hops: local.path.hopFields.length }, { interfaces: [], nextHop: null, hops: 0 });
  });

  it('round-trips the paths of a core AS, whose paths start with core or down segments', async () => {
    const core = await startDaemonServer({ service: direct, localIA: ZURICH_CORE });
    const coreClient = new DaemonPathService(`127.0.0.1:${core.port}`);
    try {
      for (const dst of direct.topology.ases.keys()) {
        const got = await coreClient.paths(ZURICH_CORE, dst);
        assertSamePaths(got, await direct.paths(ZURICH_CORE, dst), `Zurich core > ${dst}`);
        for (const p of got) assertPathVerifies(direct.topology, p);
      }
    } finally {
      coreClient.close();
      await core.close();
    }
  });

  it('passes maxPaths and refresh through', async () => {
    assert.equal((await client.paths(ZURICH, FRANKFURT, { maxPaths: 3 })).length, 3);
    assertSamePaths(await client.paths(ZURICH, FRANKFURT, { refresh: true }), await direct.paths(ZURICH, FRANKFURT), 'after refresh');
  });

  it('answers AS like SCION’s daemon: the local AS for 0, the MTU only for the local AS', async () => {
    assert.equal(await client.local(), ZURICH);
    assert.deepEqual(await client.asInfo(ZURICH), { ia: ZURICH, core: false, mtu: 1472 });
    assert.deepEqual(await client.asInfo(ZURICH_CORE), { ia: ZURICH_CORE, core: true, mtu: 0 });
    await assert.rejects(client.asInfo(parseIA('64-2:0:99')), daemonError('UNKNOWN_AS'));
    await assert.rejects(client.paths(ZURICH, parseIA('64-2:0:99')), daemonError('UNKNOWN_AS'));
  });

  it('lists the local AS’s interfaces with their underlay and refuses other ASes', async () => {
    assert.deepEqual(
      [...(await client.interfaces(ZURICH))],
      [
        [1, { ifid: 1, underlay: '10.64.20.1:50001', up: true }],
        [2, { ifid: 2, underlay: '10.64.20.2:50002', up: true }],
      ],
    );
    await assert.rejects(client.interfaces(FRANKFURT), daemonError('NOT_LOCAL_AS'));
  });

  it('rejects a request for paths from another AS as an invalid argument', async () => {
    await assert.rejects(client.paths(FRANKFURT, ZURICH), (e: unknown) => daemonError('INVALID_ARGUMENT')(e) && (e as DaemonError).grpcCode === status.INVALID_ARGUMENT);
  });

  it('NotifyInterfaceDown removes the paths over that interface', async () => {
    const s = embedded();
    const srv = await startDaemonServer({ service: s, localIA: ZURICH });
    const c = new DaemonPathService(`127.0.0.1:${srv.port}`);
    try {
      const before = await c.paths(ZURICH, FRANKFURT);
      assert.ok(before.some((p) => crosses(p, ZURICH_CORE, 1)) && before.some((p) => crosses(p, ZURICH, 1)));

      await c.notifyInterfaceDown(ZURICH_CORE, 1);
      const remoteDown = await c.paths(ZURICH, FRANKFURT);
      assert.deepEqual(remoteDown.map((p) => p.fingerprint), before.filter((p) => !crosses(p, ZURICH_CORE, 1)).map((p) => p.fingerprint));

      await c.notifyInterfaceDown(ZURICH, 1);
      const localDown = await c.paths(ZURICH, FRANKFURT);
      assert.ok(localDown.length > 0 && localDown.every((p) => !crosses(p, ZURICH, 1) && !crosses(p, ZURICH_CORE, 1)));
      assert.equal((await c.interfaces(ZURICH)).get(1)!.up, false);
      assert.equal((await s.interfaces(ZURICH)).get(1)!.up, false, 'the daemon’s service saw it');

      await assert.rejects(c.notifyInterfaceDown(ZURICH, 9), daemonError('UNKNOWN_INTERFACE'));
    } finally {
      c.close();
      await srv.close();
    }
  });
});

describe('controlplane daemon.v1: failures are DaemonError values', function () {
  this.timeout(20_000);

  it('gives DEADLINE_EXCEEDED when the daemon does not answer in time', async () => {
    const stuck: PathService = {
      paths: () => new Promise(() => {}),
      asInfo: async (ia) => ({ ia, core: false, mtu: 1472 }),
      interfaces: async () => new Map(),
      notifyInterfaceDown: async () => {},
    };
    const srv = await startDaemonServer({ service: stuck, localIA: ZURICH, graceMs: 100 });
    const c = new DaemonPathService(`127.0.0.1:${srv.port}`, { timeoutMs: 300 });
    try {
      const t = Date.now();
      await assert.rejects(c.paths(ZURICH, FRANKFURT), (e: unknown) => daemonError('DEADLINE_EXCEEDED')(e) && (e as DaemonError).grpcCode === status.DEADLINE_EXCEEDED);
      assert.ok(Date.now() - t < 3000, 'the deadline bounds the call');
    } finally {
      c.close();
      await srv.close();
    }
  });

  it('gives UNAVAILABLE when the daemon is gone or was never there, and reconnects when it is back', async () => {
    const s = embedded();
    const srv = await startDaemonServer({ service: s, localIA: ZURICH });
    const c = new DaemonPathService(`127.0.0.1:${srv.port}`, { timeoutMs: 2000 });
    try {
      assert.equal((await c.asInfo(ZURICH)).ia, ZURICH);
      await srv.close();
      await assert.rejects(c.paths(ZURICH, FRANKFURT), daemonError('UNAVAILABLE'));
      const never = new DaemonPathService(`127.0.0.1:${srv.port}`);
      await assert.rejects(never.asInfo(0n), daemonError('UNAVAILABLE'));
      never.close();

      const again = await startDaemonServer({ service: s, localIA: ZURICH, address: `127.0.0.1:${srv.port}` });
      try {
        let answered: ControlPlanePath[] | undefined;
        for (let i = 0; i < 40 && answered === undefined; i++) {
          answered = await c.paths(ZURICH, FRANKFURT).catch((e: unknown) => {
            assert.ok(daemonError('UNAVAILABLE')(e), String(e));
            return new Promise<undefined>((res) => setTimeout(() => res(undefined), 250));
          });
        }
        assert.ok(answered && answered.length > 0, 'the same client answers once the daemon is back');
      } finally {
        await again.close();
      }
    } finally {
      c.close();
    }
    await assert.rejects(c.paths(ZURICH, FRANKFURT), daemonError('CLOSED'));
  });

  it('gives BAD_RESPONSE for a reply whose raw path does not decode or does not match its interfaces', async () => {
    const replies: PathsResponse[] = [];
    const fake = new Server();
    fake.addService(DaemonServiceService, {
      paths: (_call: unknown, done: (err: null, res: PathsResponse) => void) => done(null, replies.shift()!),
      as: (_call: unknown, done: (err: null, res: { isdAs: bigint; core: boolean; mtu: number }) => void) => done(null, { isdAs: ZURICH, core: false, mtu: 1472 }),
    });
    const port = await new Promise<number>((res, rej) => fake.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    const c = new DaemonPathService(`127.0.0.1:${port}`);
    try {
      const good = (await embedded().paths(ZURICH, FRANKFURT))[0];
      const pb = pathToProto(good);
      replies.push(
        { paths: [{ ...pb, raw: pb.raw.subarray(0, pb.raw.length - 1) }] },
        { paths: [{ ...pb, interfaces: pb.interfaces.slice(0, 2) }] },
        { paths: [{ ...pb, interfaces: [...pb.interfaces.slice(0, 3), { ...pb.interfaces[3], id: 77n }, ...pb.interfaces.slice(4)] }] },
        { paths: [pb] },
      );
      await assert.rejects(c.paths(ZURICH, FRANKFURT), (e: unknown) => daemonError('BAD_RESPONSE')(e) && /raw path: BAD_HDR_LEN/.test((e as Error).message));
      await assert.rejects(c.paths(ZURICH, FRANKFURT), daemonError('BAD_RESPONSE'));
      await assert.rejects(c.paths(ZURICH, FRANKFURT), daemonError('BAD_RESPONSE'));
      assert.equal((await c.paths(ZURICH, FRANKFURT))[0].fingerprint, good.fingerprint);
    } finally {
      c.close();
      fake.forceShutdown();
    }
  });

  it('answers garbage on the wire with a gRPC status and keeps serving', async () => {
    const srv = await startDaemonServer({ service: embedded(), localIA: ZURICH });
    const raw = new Client(`127.0.0.1:${srv.port}`, credentials.createInsecure());
    const call = (method: string, body: Buffer) =>
      new Promise<{ err: ServiceError | null; res?: Buffer }>((resolve) =>
        raw.makeUnaryRequest(method, (b: Buffer) => b, (b: Buffer) => b, body, { deadline: Date.now() + 5000 }, (err, res) => resolve({ err, res })),
      );
    try {
      // Field 1 (a varint) followed by eleven continuation bytes: no protobuf decoder accepts it.
      const garbage = Buffer.from('08ffffffffffffffffffffff', 'hex');
      const bad = await call('/proto.daemon.v1.DaemonService/Paths', garbage);
      assert.equal(bad.err?.code, status.INTERNAL);
      const missing = await call('/proto.daemon.v1.DaemonService/PortRange', Buffer.alloc(0));
      assert.equal(missing.err?.code, status.UNIMPLEMENTED);

      const good = await call('/proto.daemon.v1.DaemonService/Paths', Buffer.from(PathsRequest.encode(PathsRequest.fromPartial({ destinationIsdAs: FRANKFURT })).finish()));
      assert.equal(good.err, null);
      assert.ok(PathsResponse.decode(good.res!).paths.length >= 10, 'source 0 means the local AS, and the server still serves');
    } finally {
      raw.close();
      await srv.close();
    }
  });
});
