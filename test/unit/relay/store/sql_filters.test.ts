import assert from 'node:assert/strict';
import { FlowFilter, Verdict } from '../../../../proto/gen/flow/flow';
import { Params, filtersWhere, pushdownIsExact } from '../../../../relay/store/sql_filters';

const F = (f: Partial<FlowFilter>): FlowFilter => ({ ...FlowFilter.fromPartial({}), ...f });

describe('relay/store sql_filters', () => {
  it('binds every value as a typed parameter and never puts it in the SQL text', () => {
    const evil = "x'); DROP TABLE cillion.flows; --";
    const p = new Params();
    const sql = filtersWhere([F({ sourcePod: [`${evil}/${evil}`], sourceLabel: [`app=${evil}`], geofenceName: [evil], srcIa: ['1-ff00:0:110'] })], [], p, 'cillion');
    assert.ok(!sql.includes('DROP'), sql);
    assert.ok(!sql.includes('ff00'), sql);
    const bound = Object.values(p.values).flat();
    assert.ok(bound.includes(evil));
    assert.ok(bound.includes('1-ff00:0:110'));
    assert.match(sql, /\{p\d+:String\}/);
  });

  it('is "1" when nothing is set or an allow filter cannot be narrowed in SQL', () => {
    assert.equal(filtersWhere([], [], new Params(), 'cillion'), '1');
    assert.equal(filtersWhere([F({ verdict: [Verdict.DROPPED] }), F({ httpMethod: ['GET'] })], [], new Params(), 'cillion'), '1');
  });

  it('ORs allow filters and ANDs the fields inside one', () => {
    const sql = filtersWhere([F({ verdict: [Verdict.DROPPED], sourceIdentity: [5] }), F({ nodeName: ['n1'] })], [], new Params(), 'cillion');
    assert.match(sql, /^\(\(verdict IN \{p0:Array\(String\)\} AND source_workload IN \(SELECT key FROM cillion\.workloads WHERE identity IN \{p1:Array\(UInt32\)\}\)\) OR \(\(node_name IN/);
  });

  it('negates a deny filter only when its SQL is exact', () => {
    const exact = F({ verdict: [Verdict.DROPPED] });
    const approx = F({ sourcePod: ['ns/'] });
    assert.match(filtersWhere([], [exact], new Params(), 'cillion'), /^NOT \(verdict IN/);
    assert.equal(filtersWhere([], [approx], new Params(), 'cillion'), '1');
    assert.equal(pushdownIsExact([exact], [exact]), true);
    assert.equal(pushdownIsExact([exact], [approx]), false);
    assert.equal(pushdownIsExact([F({ verdict: [Verdict.DROPPED], httpMethod: ['GET'] })], []), false);
  });

  it('turns ISD-AS wildcards into prefix and suffix matches on the canonical text', () => {
    const p = new Params();
    const sql = filtersWhere([F({ srcIa: ['1-0', '0-ff00:0:110', '1-ff00_0_111'] })], [], p, 'cillion');
    assert.match(sql, /startsWith\(src_ia, \{p0:String\}\) OR endsWith\(src_ia, \{p1:String\}\) OR src_ia = \{p2:String\}/);
    assert.deepEqual(p.values, { p0: '1-', p1: '-ff00:0:110', p2: '1-ff00:0:111' });
  });

  it('leaves label selectors it does not understand to the matcher', () => {
    assert.equal(filtersWhere([F({ sourceLabel: ['!app'] })], [], new Params(), 'cillion'), '1');
    const p = new Params();
    const sql = filtersWhere([F({ sourceLabel: ['env in (a,b),k8s:app=web'] })], [], p, 'cillion');
    assert.match(sql, /arrayExists/);
    assert.deepEqual(Object.values(p.values), ['app=web', ':app=web']);
  });

  it('finds labels in the workloads table and hops in path_headers, by the key the flow holds', () => {
    const p = new Params();
    const sql = filtersWhere([F({ destinationLabel: ['app=web'], throughCountry: ['de'], throughIsd: [3] })], [], p, 'store1');
    assert.match(sql, /destination_workload IN \(SELECT key FROM store1\.workloads WHERE \(arrayExists\(l -> .*, labels\)\)\)/);
    assert.match(sql, /path_key IN \(SELECT key FROM store1\.path_headers WHERE hasAny\(arrayMap\(c -> upper\(c\), hops\.country\), \{p\d+:Array\(String\)\}\)\)/);
    assert.match(sql, /path_key IN \(SELECT key FROM store1\.path_headers WHERE hasAny\(arrayMap\(x -> toUInt16OrZero/);
    assert.ok(Object.values(p.values).some((v) => Array.isArray(v) && v[0] === 'DE'));
  });

  it('compares enums by name, exactly, and a value the enum lacks matches nothing', () => {
    const p = new Params();
    assert.equal(filtersWhere([F({ verdict: [Verdict.DROPPED, 0] })], [], p, 'cillion'), '((verdict IN {p0:Array(String)}))');
    assert.deepEqual(p.values.p0, ['DROPPED', 'VERDICT_UNKNOWN']);
    assert.equal(filtersWhere([F({ verdict: [77 as Verdict] })], [], new Params(), 'cillion'), '((0))');
    assert.equal(pushdownIsExact([F({ verdict: [77 as Verdict], dropReasonDesc: [0] })], []), true);
  });

  it('takes a fence verdict or name only from a flow that has a Geofence, with the namespace when one is given', () => {
    const p = new Params();
    const sql = filtersWhere([F({ geofenceName: ['eu', 'shop/dach'] })], [], p, 'cillion');
    assert.match(sql, /bitAnd\(present, 1024\) != 0 AND \(geofence_name = \{p0:String\} OR \(geofence_name = \{p1:String\} AND geofence_namespace = \{p2:String\}\)\)/);
    assert.deepEqual(p.values, { p0: 'eu', p1: 'dach', p2: 'shop' });
    assert.equal(pushdownIsExact([F({ geofenceName: ['shop/dach'], geofenceVerdict: [0] })], []), true);
  });
});
