import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EmbeddedPathService } from '../../../controlplane/pathservice';
import { getCondition, selectedPath, setCondition } from '../../../resources/status';
import { parseIA } from '../../../scion/isdas';

describe('resources status', () => {
  const t1 = new Date('2026-03-01T10:00:00.123Z');
  const t2 = new Date('2026-03-01T11:00:00Z');

  it('keeps lastTransitionTime while the status holds, moves it when it changes', () => {
    let cs = setCondition([], { type: 'Valid', status: 'True', reason: 'Resolved', message: 'ok', observedGeneration: 1 }, t1);
    assert.deepEqual(cs, [{ type: 'Valid', status: 'True', reason: 'Resolved', message: 'ok', observedGeneration: 1, lastTransitionTime: '2026-03-01T10:00:00Z' }]);
    cs = setCondition(cs, { type: 'Valid', status: 'True', reason: 'Resolved', message: 'still ok', observedGeneration: 2 }, t2);
    assert.equal(getCondition(cs, 'Valid')?.lastTransitionTime, '2026-03-01T10:00:00Z');
    assert.equal(getCondition(cs, 'Valid')?.observedGeneration, 2);
    cs = setCondition(cs, { type: 'Programmed', status: 'Unknown', reason: 'Pending', message: '', observedGeneration: 2 }, t2);
    cs = setCondition(cs, { type: 'Valid', status: 'False', reason: 'InvalidSpec', message: 'spec.paths: bad', observedGeneration: 3 }, t2);
    assert.deepEqual(cs.map((c) => [c.type, c.status, c.lastTransitionTime]), [
      ['Valid', 'False', '2026-03-01T11:00:00Z'],
      ['Programmed', 'Unknown', '2026-03-01T11:00:00Z'],
    ]);
    assert.throws(() => setCondition(cs, { type: 'Valid', status: 'True', reason: 'not camel', message: '', observedGeneration: 3 }, t2), RangeError);
  });

  it('a selected path lists every AS with its ingress and egress interfaces', async () => {
    const svc = EmbeddedPathService.fromFile(join(__dirname, '../../../examples/topology.yaml'), { now: () => 1_700_000_000, seed: 1 });
    const [best] = await svc.paths(parseIA('64-2:0:20'), parseIA('65-2:0:20'));
    const s = selectedPath(best!);
    // The shortest path in examples/topology.yaml: cluster#1 - Zurich core #4..#1 - Frankfurt core #1..#5 - cluster#1.
    assert.deepEqual(s.hops, [
      { isdAS: '64-2:0:20', ingress: 0, egress: 1 },
      { isdAS: '64-2:0:10', ingress: 4, egress: 1 },
      { isdAS: '65-2:0:10', ingress: 1, egress: 5 },
      { isdAS: '65-2:0:20', ingress: 1, egress: 0 },
    ]);
    assert.equal(s.destination, '65-2:0:20');
    assert.equal(s.fingerprint, best!.fingerprint);
    assert.match(s.expires ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});
