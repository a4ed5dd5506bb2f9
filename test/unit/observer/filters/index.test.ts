import assert from 'node:assert/strict';
import { Flow, FlowFilter, Verdict } from '../../../../proto/gen/flow/flow';
import { FilterError, flowMatcher, validateFilters } from '../../../../observer/filters';

describe('observer/filters: index (Hubble allow/deny semantics)', () => {
  const f = (ns: string, verdict: Verdict) => Flow.fromPartial({ source: { namespace: ns, podName: 'p' }, verdict });
  const a = f('a', Verdict.FORWARDED);
  const b = f('b', Verdict.DROPPED);
  const ff = FlowFilter.fromPartial;

  it('no filters pass everything; an empty FlowFilter matches every flow', () => {
    assert.equal(flowMatcher([], [])(a), true);
    assert.equal(flowMatcher([ff({})], [])(a), true);
    assert.equal(flowMatcher([], [ff({})])(a), false);
  });

  it('ANDs fields inside a filter and ORs filters of the allow list', () => {
    const both = flowMatcher([ff({ sourcePod: ['a/'], verdict: [Verdict.DROPPED] })], []);
    assert.equal(both(a), false);
    const either = flowMatcher([ff({ sourcePod: ['a/'] }), ff({ verdict: [Verdict.DROPPED] })], []);
    assert.equal(either(a), true);
    assert.equal(either(b), true);
    assert.equal(either(f('c', Verdict.FORWARDED)), false);
  });

  it('any deny filter that matches removes the flow', () => {
    const m = flowMatcher([ff({ sourcePod: ['a/', 'b/'] })], [ff({ verdict: [Verdict.DROPPED] })]);
    assert.equal(m(a), true);
    assert.equal(m(b), false);
  });

  it('validates allow and deny lists alike, and refuses filters it cannot honour', () => {
    assert.throws(() => validateFilters([], [ff({ sourceIp: ['x'] })]), FilterError);
    assert.throws(() => validateFilters([ff({ httpMethod: ['GET'] })], []), /httpMethod is not supported/);
    assert.throws(() => validateFilters([ff({ experimental: { celExpression: ['true'] } })], []), FilterError);
    assert.doesNotThrow(() => validateFilters([ff({ sourceIp: ['10.0.0.0/8'] })], []));
  });
});
