// PathVerifier over the embedded control plane: paths rebuilt from raw hop fields alone,
// matched by beaconing round, and every way a path can fail to be vouched for.
import assert from 'node:assert/strict';
import type { ControlPlanePath } from '../../../controlplane/combinator';
import { EmbeddedAuthority } from '../../../paths/embedded';
import { barePath } from '../../../paths/describe';
import { PathVerifier } from '../../../paths/verify';
import type { HopEvidence, PathAuthority } from '../../../paths/authority';
import { ScionPathType, type ScionPath } from '../../../proto/gen/flow/flow';
import { encodeScionPathBytes } from '../../../scion/path/raw';
import { exampleControlPlane, FRANKFURT, honestPath, ZURICH } from './fixture';
import { inTransit } from './helpers';

const T0 = 1_800_000_000;

/** What a collector sends: whatever it likes, plus the raw bytes. */
const sent = (raw: Uint8Array, over: Partial<ScionPath> = {}): ScionPath => ({ ...barePath(ZURICH, FRANKFURT, 1), raw: Buffer.from(raw), ...over });

describe('paths/verify with the embedded control plane', () => {
  let clock = T0;
  const control = exampleControlPlane(() => clock);
  const period = control.roundPeriod!;
  let paths: ControlPlanePath[];
  let verifier: PathVerifier;

  beforeEach(() => {
    clock = T0;
    paths = control.pathsSync(ZURICH, FRANKFURT);
    verifier = new PathVerifier(new EmbeddedAuthority(control, { maxRounds: 4 }));
  });

  it("rebuilds every path from its hop fields alone, as another process over the topology describes it, wherever along the way the packet was", () => {
    // A separate service, as in another process: same rounds, same hop fields.
    const other = exampleControlPlane(() => T0 + 17);
    const theirs = other.pathsSync(ZURICH, FRANKFURT);
    assert.equal(theirs.length, paths.length);
    for (const [i, cp] of theirs.entries()) {
      const raw = encodeScionPathBytes(cp.path);
      const lies = sent(raw, { fingerprint: 'f'.repeat(64), hops: [], knownToControlPlane: false, pathId: 7 });
      for (const bytes of [raw, inTransit(raw)]) {
        const v = verifier.verify({ ...lies, raw: Buffer.from(bytes) });
        assert.equal(v.unverifiable, undefined);
        assert.deepEqual(v.path, { ...honestPath(paths[i]), pathId: 7, raw: Buffer.from(bytes) });
      }
    }
  });

  it('matches hop fields of an earlier round (a late flow), not of a round too old, not yet begun or not aligned', () => {
    const raw = encodeScionPathBytes(paths[0].path);
    const early = paths[0].path.infoFields[0].timestamp;
    clock = T0 + 3 * period;
    assert.equal(verifier.verify(sent(raw)).path.knownToControlPlane, true, 'three rounds later');
    clock = T0 + 4 * period;
    assert.equal(verifier.verify(sent(raw)).path.knownToControlPlane, true, 'cached: the match was made while it was admissible');
    const fresh = new PathVerifier(new EmbeddedAuthority(control, { maxRounds: 4 }));
    assert.equal(fresh.verify(sent(raw)).path.knownToControlPlane, false, 'four rounds later, with 4 admissible');
    clock = T0;
    const shifted = (delta: number) => encodeScionPathBytes({ ...paths[0].path, infoFields: paths[0].path.infoFields.map((f) => ({ ...f, timestamp: early + delta })) });
    assert.equal(fresh.verify(sent(shifted(period))).path.knownToControlPlane, false, 'a round that has not begun');
    assert.equal(fresh.verify(sent(shifted(1))).path.knownToControlPlane, false, 'not a round start');
  });

  it('vouches for nothing between other ends, of mixed rounds, with a changed MAC or unknown ASes', () => {
    const cp = paths[0];
    const raw = encodeScionPathBytes(cp.path);
    assert.equal(verifier.verify(sent(raw, { srcIa: '65-2:0:20', dstIa: '64-2:0:20' })).path.knownToControlPlane, false);
    assert.equal(verifier.verify(sent(raw, { srcIa: '64-2:0:99' })).path.knownToControlPlane, false);
    const mac = Buffer.from(raw);
    mac[mac.length - 1] ^= 1;
    const badMac = verifier.verify(sent(mac));
    assert.equal(badMac.path.knownToControlPlane, false);
    assert.equal(badMac.path.fingerprint, '');
    // Only the ends are named; interfaces come from the bytes, no geo from anywhere.
    assert.equal(badMac.path.hops[0].isdAs, '64-2:0:20');
    assert.ok(badMac.path.hops.every((h) => h.geo === undefined && h.country === ''));
    const multi = paths.find((p) => p.path.infoFields.length > 1)!;
    const mixed = encodeScionPathBytes({ ...multi.path, infoFields: multi.path.infoFields.map((f, i) => (i === 0 ? { ...f, timestamp: f.timestamp - period } : f)) });
    assert.equal(verifier.verify(sent(mixed)).path.knownToControlPlane, false);
  });

  it('says why when there is nothing to match: no hop fields, bytes or ends that do not decode; an empty path is known only inside one AS', () => {
    assert.equal(verifier.verify(sent(new Uint8Array(0))).unverifiable, 'noHopFields');
    assert.equal(verifier.verify(sent(Buffer.from([1, 2, 3]))).unverifiable, 'malformed');
    assert.equal(verifier.verify(sent(encodeScionPathBytes(paths[0].path), { srcIa: 'not an IA' })).unverifiable, 'malformed');
    assert.equal(verifier.verify(sent(encodeScionPathBytes(paths[0].path), { type: ScionPathType.SCION_PATH_TYPE_UNKNOWN })).unverifiable, 'malformed');
    const oneHop = verifier.verify(sent(encodeScionPathBytes(paths[0].path), { type: ScionPathType.SCION_PATH_ONE_HOP }));
    assert.deepEqual([oneHop.unverifiable, oneHop.path.knownToControlPlane], [undefined, false]);
    const empty = (src: string, dst: string) => verifier.verify(sent(new Uint8Array(0), { type: ScionPathType.SCION_PATH_EMPTY, srcIa: src, dstIa: dst })).path.knownToControlPlane;
    assert.equal(empty('64-2:0:20', '64-2:0:20'), true);
    assert.equal(empty('64-2:0:20', '65-2:0:20'), false);
  });

  it('matches EPIC paths by the SCION path behind their 16-byte prefix', () => {
    const raw = Buffer.concat([Buffer.alloc(16, 7), encodeScionPathBytes(paths[1].path)]);
    const v = verifier.verify(sent(raw, { type: ScionPathType.SCION_PATH_EPIC }));
    assert.equal(v.path.fingerprint, paths[1].fingerprint);
    assert.equal(v.path.type, ScionPathType.SCION_PATH_EPIC);
  });

  it('never remembers a miss (an authority may learn the path later) and forgets matches when the authority changes', () => {
    const raw = encodeScionPathBytes(paths[0].path);
    let known: ScionPath | undefined;
    let calls = 0;
    const authority: PathAuthority & { generation: number } = {
      name: 'test',
      generation: 0,
      match: (_e: HopEvidence) => {
        calls++;
        return known;
      },
    };
    const v = new PathVerifier(authority);
    assert.equal(v.verify(sent(raw)).path.knownToControlPlane, false);
    known = honestPath(paths[0]);
    assert.equal(v.verify(sent(raw)).path.knownToControlPlane, true);
    v.verify(sent(raw));
    assert.equal(calls, 2, 'the match is cached');
    known = undefined;
    authority.generation++;
    assert.equal(v.verify(sent(raw)).path.knownToControlPlane, false);
  });

  it('asks the authority again once a remembered match has expired', () => {
    const raw = encodeScionPathBytes(paths[0].path);
    let known: ScionPath | undefined = { ...honestPath(paths[0]), expiry: { seconds: BigInt(Math.floor(Date.now() / 1000) - 10), nanos: 0 } };
    let calls = 0;
    const authority: PathAuthority = {
      name: 'test',
      generation: 0,
      match: (_e: HopEvidence) => {
        calls++;
        return known;
      },
    };
    const v = new PathVerifier(authority);
    assert.equal(v.verify(sent(raw)).path.knownToControlPlane, true);
    known = undefined;
    assert.equal(v.verify(sent(raw)).path.knownToControlPlane, false, 'an expired match no longer vouches');
    assert.equal(calls, 2);
  });
});
