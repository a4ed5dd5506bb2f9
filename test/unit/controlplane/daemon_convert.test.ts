import assert from 'node:assert/strict';
import { parseIA } from '../../../scion/isdas';
import { LinkType, Path as PathPB } from '../../../proto/gen/daemon/v1/daemon';
import { Duration } from '../../../proto/gen/google/protobuf/duration';
import type { ControlPlanePath } from '../../../controlplane/combinator';
import {
  durationFromMs,
  msFromDuration,
  pathFromProto,
  pathToProto,
  secondsFromTimestamp,
  timestampFromSeconds,
} from '../../../controlplane/daemon_convert';
import { EmbeddedPathService } from '../../../controlplane/pathservice';
import { join } from 'node:path';

const EXAMPLE = join(__dirname, '../../../examples/topology.yaml');
const ZURICH = parseIA('64-2:0:20');
const FRANKFURT = parseIA('65-2:0:20');

describe('controlplane daemon_convert: ControlPlanePath <-> daemon.v1 Path', () => {
  it('sends an unannounced latency as snet does (-1 ns), and reads any negative Duration as unannounced', () => {
    assert.deepEqual(durationFromMs(null), { seconds: 0n, nanos: -1 });
    // protobuf writes a negative int32 as a ten-byte varint (encoding spec, "Signed Integers").
    assert.equal(Buffer.from(Duration.encode(durationFromMs(null)).finish()).toString('hex'), '10ffffffffffffffffff01');
    assert.equal(msFromDuration({ seconds: 0n, nanos: -1 }), null);
    assert.equal(msFromDuration({ seconds: -2n, nanos: 0 }), null);
    assert.equal(msFromDuration(undefined), null);
  });

  it('carries milliseconds as seconds and nanoseconds and back unchanged', () => {
    assert.deepEqual(durationFromMs(4), { seconds: 0n, nanos: 4_000_000 });
    assert.deepEqual(durationFromMs(1500.25), { seconds: 1n, nanos: 500_250_000 });
    for (const ms of [0, 0.1, 0.2, 0.3, 1.2, 4.3, 45, 85.7, 110.1]) assert.equal(msFromDuration(durationFromMs(ms)), ms);
  });

  it('carries a half-second expiry in the Timestamp nanos', () => {
    assert.deepEqual(timestampFromSeconds(1_700_021_600.5), { seconds: 1_700_021_600n, nanos: 500_000_000 });
    assert.equal(secondsFromTimestamp({ seconds: 1_700_021_600n, nanos: 500_000_000 }), 1_700_021_600.5);
  });

  describe('a path through the wire encoding', () => {
    let sent: ControlPlanePath;
    let wire: PathPB;
    before(async () => {
      const svc = EmbeddedPathService.fromFile(EXAMPLE, { now: () => 1_700_000_000, seed: 1 });
      sent = (await svc.paths(ZURICH, FRANKFURT))[0];
      wire = PathPB.decode(PathPB.encode(pathToProto(sent)).finish());
    });

    it('puts positions on the wire as float32 and reads back the decimals the topology declares, without country', () => {
      assert.equal(sent.geo[0]!.latitude, 47.39);
      assert.equal(wire.geo[0].latitude, Math.fround(47.39));
      assert.notEqual(wire.geo[0].latitude, 47.39);
      const back = pathFromProto(wire, { src: ZURICH, dst: FRANKFURT, srcCore: false });
      assert.deepEqual(back.geo[0], { latitude: 47.39, longitude: 8.515, address: 'Zurich-West, Switzerland' });
      assert.equal(sent.geo[0]!.country, 'CH');
    });

    it('sends unannounced positions as zero coordinates and reads them back as null', () => {
      const unknown = pathToProto({ ...sent, geo: sent.geo.map(() => null), latencyMs: sent.latencyMs.map(() => null) });
      assert.deepEqual(unknown.geo[0], { latitude: 0, longitude: 0, address: '' });
      const back = pathFromProto(PathPB.decode(PathPB.encode(unknown).finish()), { src: ZURICH, dst: FRANKFURT, srcCore: false });
      assert.ok(back.geo.every((g) => g === null));
      assert.ok(back.latencyMs.every((l) => l === null));
      assert.equal(back.latencyComplete, false);
      assert.equal(back.totalLatencyMs, 0);
    });

    it('maps link types to the daemon.v1 enum numbers', () => {
      assert.deepEqual(wire.linkType, sent.linkTypes.map((t) => ({ direct: 1, multihop: 2, opennet: 3, unspecified: 0 })[t] as LinkType));
    });

    it('fills metadata a daemon leaves out as unannounced rather than failing', () => {
      const sparse = { ...wire, latency: [], bandwidth: [], geo: [], linkType: [], internalHops: [], notes: [] };
      const back = pathFromProto(sparse, { src: ZURICH, dst: FRANKFURT, srcCore: false });
      const n = sent.interfaces.length;
      assert.deepEqual(back.latencyMs, Array(n - 1).fill(null));
      assert.deepEqual(back.bandwidthKbps, Array(n - 1).fill(0));
      assert.deepEqual(back.linkTypes, Array(n / 2).fill('unspecified'));
      assert.deepEqual(back.notes, Array(back.ases.length).fill(''));
      assert.equal(back.fingerprint, sent.fingerprint);
    });
  });
});
