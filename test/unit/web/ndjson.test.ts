import { strict as assert } from 'node:assert';
import { NdjsonLineError, NdjsonLines } from '../../../web/api/ndjson';
import { readLines } from '../../../web/api/flow_stream';
import type { Flow } from '../../../proto/gen/flow/flow';

describe('web: NDJSON lines', () => {
  it('joins a line split across chunks and splits a chunk of many lines', () => {
    const l = new NdjsonLines();
    assert.deepEqual(l.push('{"a":1}\n{"b"'), ['{"a":1}']);
    assert.deepEqual(l.push(':2}\n\n{"c":3}\n{"d"'), ['{"b":2}', '{"c":3}']);
    assert.deepEqual(l.push(':4}'), []);
    assert.deepEqual(l.end(), ['{"d":4}']);
    assert.deepEqual(l.end(), []);
  });

  it('gives every line of any chunking of the same body', () => {
    const body = Array.from({ length: 50 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i) })).join('\n') + '\n';
    for (const size of [1, 3, 7, 64, body.length]) {
      const l = new NdjsonLines();
      const out: string[] = [];
      for (let i = 0; i < body.length; i += size) out.push(...l.push(body.slice(i, i + size)));
      out.push(...l.end());
      assert.equal(out.length, 50, `chunk size ${size}`);
      assert.deepEqual(out.map((x) => JSON.parse(x).i), [...Array(50).keys()]);
    }
  });

  it('refuses a line longer than its bound', () => {
    const l = new NdjsonLines(10);
    assert.throws(() => l.push('x'.repeat(11)), NdjsonLineError);
  });

  it('reads flows, lost events and the final status through the generated fromJSON', () => {
    const out: Flow[] = [];
    const r = readLines(
      [
        JSON.stringify({ flow: { uuid: 'u1', verdict: 'DROPPED', scionPath: { hops: [{ isdAs: '64-2:0:10', country: 'CH' }] } }, nodeName: 'zurich/n1' }),
        JSON.stringify({ lostEvents: { numEventsLost: '7' } }),
        JSON.stringify({ nodeStatus: { stateChange: 'NODE_CONNECTED', nodeNames: ['n1'] } }),
        JSON.stringify({ status: { code: 8, name: 'RESOURCE_EXHAUSTED', message: 'slow reader' } }),
      ],
      out,
    );
    assert.equal(out.length, 1);
    assert.equal(out[0].uuid, 'u1');
    assert.equal(out[0].verdict, 2);
    assert.equal(out[0].scionPath?.hops[0].isdAs, '64-2:0:10');
    assert.equal(r.lost, 7);
    assert.deepEqual(r.status, { code: 8, name: 'RESOURCE_EXHAUSTED', message: 'slow reader' });
  });
});
