import { strict as assert } from 'node:assert';
import { FlagError, FilterFlags } from '../../../observer/filters/flags';
import { flowsRequest } from '../../../web/api/flows_request';
import { formatHash, parseHash } from '../../../web/route';
import { GetFlowsRequest } from '../../../proto/gen/observer/observer';

const NOW = new Date('2026-01-01T12:00:00Z');

describe('web: filters to GetFlowsRequest', () => {
  it('builds the same filters as `cillion observe` with the same flags', () => {
    const pairs: [string, string][] = [['namespace', 'shop'], ['verdict', 'DROPPED'], ['through-country', 'US'], ['geofence-verdict', 'violation'], ['label', 'app=billing']];
    const flags = new FilterFlags();
    for (const [k, v] of pairs) flags.set(k, v);
    const req = flowsRequest(pairs, 20000, NOW);
    const want = flags.result();
    assert.deepEqual(req.whitelist, want.whitelist);
    assert.deepEqual(req.blacklist, []);
    assert.equal(req.whitelist.length, 2, 'namespace and label are either-direction: two OR-ed filters');
    assert.deepEqual(req.whitelist[0].throughCountry, ['US']);
  });

  it('asks for the newest flows up to the page bound and follows, unless until is set', () => {
    const live = flowsRequest([['since', '15m']], 20000, NOW);
    assert.equal(live.number, 20000n);
    assert.equal(live.follow, true);
    assert.deepEqual(live.since, { seconds: BigInt(NOW.getTime() / 1000 - 900), nanos: 0 });
    const past = flowsRequest([['since', '2026-01-01T10:00:00Z'], ['until', '2026-01-01T11:00:00Z']], 100, NOW);
    assert.equal(past.follow, false);
    assert.equal((GetFlowsRequest.toJSON(past) as { until?: string }).until, '2026-01-01T11:00:00.000Z');
  });

  it('refuses what observe refuses, naming the flag', () => {
    assert.throws(() => flowsRequest([['verdict', 'MAYBE']], 1, NOW), (e: Error) => e instanceof FlagError && /--verdict/.test(e.message));
    assert.throws(() => flowsRequest([['since', 'yesterday']], 1, NOW), (e: Error) => e instanceof FlagError && /--since/.test(e.message));
    assert.throws(() => flowsRequest([['bogus', 'x']], 1, NOW), FlagError);
  });

  it('round-trips the hash route, repeated keys kept in order', () => {
    const r = parseHash('#/flows?namespace=shop&through-country=US&through-country=SG&since=15m');
    assert.equal(r.view, 'flows');
    assert.deepEqual(r.filters, [['namespace', 'shop'], ['through-country', 'US'], ['through-country', 'SG'], ['since', '15m']]);
    assert.deepEqual(parseHash(formatHash(r)), r);
    assert.equal(parseHash('#/nowhere').view, 'map');
    assert.equal(parseHash('').view, 'map');
  });
});
