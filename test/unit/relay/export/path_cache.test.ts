// The relay's memory of rebuilt paths across batches: it gives what a fresh rebuild gives,
// remembers only what the control plane vouched for, and forgets it when the control
// plane changes or the hop fields expire; a crafted path never takes another's entry.
import assert from 'node:assert/strict';
import { FlowJudge } from '../../../../geofence/judge';
import type { HopEvidence, PathAuthority } from '../../../../paths/authority';
import { barePath } from '../../../../paths/describe';
import type { ScionPath } from '../../../../proto/gen/flow/flow';
import { encodeScionPathBytes } from '../../../../scion/path/raw';
import { RebuiltPaths } from '../../../../relay/export/path_cache';
import { PathChecks } from '../../../../relay/export/screen';
import { relayLimits } from '../../../../relay/limits';
import { storedPath } from '../../../../relay/store/keys';
import { exampleControlPlane, FRANKFURT, honestPath, ZURICH } from '../../paths/fixture';

const control = exampleControlPlane();
const paths = control.pathsSync(ZURICH, FRANKFURT);
const sent = (raw: Uint8Array, over: Partial<ScionPath> = {}): ScionPath => ({ ...barePath(ZURICH, FRANKFURT, 1), raw: Buffer.from(raw), ...over });

/** An authority the test steers, counting the questions it is asked. */
function authority(): PathAuthority & { generation: number; known: ScionPath | undefined; calls: number } {
  const a = {
    name: 'test',
    generation: 0,
    known: undefined as ScionPath | undefined,
    calls: 0,
    match: (_e: HopEvidence) => {
      a.calls++;
      return a.known;
    },
  };
  return a;
}

describe('relay/export/path_cache', () => {
  it('gives what a fresh rebuild gives, and rebuilds a vouched-for path once', () => {
    const a = authority();
    a.known = honestPath(paths[0]);
    const judge = new FlowJudge(undefined, { paths: a });
    const known = new RebuiltPaths();
    const raw = encodeScionPathBytes(paths[0].path);
    const p = sent(raw, { pathId: 7, fingerprint: 'forged' });
    const first = known.of(judge, p);
    const fresh = new FlowJudge(undefined, { paths: a }).rebuild(p);
    assert.deepEqual(first.rebuilt, fresh);
    assert.deepEqual(first.stored, storedPath(fresh.path));
    assert.equal(first.rebuilt.fingerprintMismatch, true);
    const calls = a.calls;
    assert.equal(known.of(judge, p).stored, first.stored, 'remembered');
    assert.equal(a.calls, calls);
    // Another path id, or another fingerprint claimed, is another entry.
    assert.equal(known.of(judge, { ...p, pathId: 8 }).stored.path.pathId, 8);
    assert.equal(known.of(judge, { ...p, fingerprint: '' }).rebuilt.fingerprintMismatch, false);
  });

  it('never remembers a path the control plane did not vouch for, and forgets on a new generation or expired hop fields', () => {
    const a = authority();
    const judge = new FlowJudge(undefined, { paths: a });
    const known = new RebuiltPaths();
    const p = sent(encodeScionPathBytes(paths[0].path));
    assert.equal(known.of(judge, p).rebuilt.path.knownToControlPlane, false);
    a.known = honestPath(paths[0]);
    assert.equal(known.of(judge, p).rebuilt.path.knownToControlPlane, true, 'a miss was not remembered');
    a.known = undefined;
    a.generation++;
    assert.equal(known.of(judge, p).rebuilt.path.knownToControlPlane, false, 'forgotten with the generation');
    a.known = { ...honestPath(paths[0]), expiry: { seconds: BigInt(Math.floor(Date.now() / 1000) - 10), nanos: 0 } };
    a.generation++;
    assert.equal(known.of(judge, p).rebuilt.path.knownToControlPlane, true);
    a.known = undefined;
    assert.equal(known.of(judge, p).rebuilt.path.knownToControlPlane, false, 'an expired match is asked about again');
  });

  it('checks a path once per content for the screen, with the answer pathProblem gives', () => {
    const checks = new PathChecks(relayLimits({ maxHops: 3 }));
    const long = sent(encodeScionPathBytes(paths[0].path));
    const first = checks.problem(long);
    assert.match(first ?? '', /\(3 hops\)/);
    assert.equal(checks.problem({ ...long }), first);
    assert.equal(new PathChecks(relayLimits()).problem(long), undefined);
  });
});
