// The expander against the ClickHouse plugin's own expansions (pkg/macros and the
// frontend's $__conditionalAll) and Grafana's multi-value formatting.
import assert from 'node:assert/strict';
import { ALL, expandSql, variablesUsed, type ExpandContext } from '../../../dashboards/src/macros';

const from = new Date('2026-01-02T03:04:05.678Z');
const to = new Date('2026-01-02T04:04:05.999Z');
const ctx = (variables: ExpandContext['variables'] = {}, intervalMs = 30_000): ExpandContext => ({ from, to, intervalMs, variables });
const f = Math.floor(from.getTime() / 1000);
const t = Math.floor(to.getTime() / 1000);

describe('dashboards/macros', () => {
  it('expands the time macros as the plugin backend does', () => {
    assert.equal(expandSql('WHERE $__timeFilter(time)', ctx()), `WHERE time >= toDateTime(${f}) AND time <= toDateTime(${t})`);
    assert.equal(expandSql('$__timeFilter_ms(ts)', ctx()), `ts >= fromUnixTimestamp64Milli(${from.getTime()}) AND ts <= fromUnixTimestamp64Milli(${to.getTime()})`);
    assert.equal(expandSql('$__fromTime, $__toTime', ctx()), `toDateTime(${f}), toDateTime(${t})`);
    assert.equal(expandSql('$__fromTime_ms', ctx()), `fromUnixTimestamp64Milli(${from.getTime()})`);
    assert.equal(expandSql('$__dateFilter(d)', ctx()), "d >= toDate('2026-01-02') AND d <= toDate('2026-01-02')");
    assert.equal(expandSql('$__timeFrom(x) AND $__timeTo(x)', ctx()), `x >= toDateTime(${f}) AND x <= toDateTime(${t})`);
    assert.equal(expandSql('$__timeInterval(time) AS b', ctx()), 'toStartOfInterval(toDateTime(time), INTERVAL 30 second) AS b');
    assert.equal(expandSql('$__timeInterval_ms(time)', ctx({}, 250)), 'toStartOfInterval(toDateTime64(time, 3), INTERVAL 250 millisecond)');
    assert.equal(expandSql('sum(bytes) / $__interval_s', ctx({}, 400)), 'sum(bytes) / 1', 'at least a second');
  });

  it('keeps the condition of $__conditionalAll for a selection and makes it 1=1 for All or nothing', () => {
    const sql = 'WHERE $__conditionalAll(app IN (${app}), $app) AND $__conditionalAll(f(x, (y)) = 1, ${fence})';
    assert.equal(expandSql(sql, ctx({ app: { current: ALL, options: ['a'] }, fence: { current: [] } })), 'WHERE 1=1 AND 1=1');
    assert.equal(
      expandSql(sql, ctx({ app: { current: ['billing', 'video'] }, fence: { current: ['eu'] } })),
      "WHERE app IN ('billing','video') AND f(x, (y)) = 1",
    );
    assert.throws(() => expandSql('$__conditionalAll(a, $b, $c)', ctx({ b: { current: 'x' } })), /2 arguments/);
  });

  it("formats variables as Grafana does for the plugin: a multi-value quoted and joined, All as every option, a single value as it is", () => {
    const vars: ExpandContext['variables'] = { ns: { current: ['db', 'shop'] }, all: { current: ALL, options: ['x', 'y'] }, database: { current: 'cillion' } };
    assert.equal(expandSql('FROM ${database}.flows WHERE n IN ($ns) OR m IN (${all})', ctx(vars)), "FROM cillion.flows WHERE n IN ('db','shop') OR m IN ('x','y')");
  });

  it('refuses an unknown variable or macro instead of leaving it in the SQL', () => {
    assert.throws(() => expandSql('WHERE x = $nope', ctx()), /\$nope/);
    assert.throws(() => expandSql('WHERE $__timeFilterr(time)', ctx()), /timeFilterr is no macro/);
    assert.throws(() => expandSql('WHERE $__timeFilter(a, b)', ctx()), /1 argument/);
  });

  it('leaves quoted text alone when it looks for the closing parenthesis', () => {
    assert.equal(expandSql("$__conditionalAll(x = ')', $v)", ctx({ v: { current: ['1'] } })), "x = ')'");
  });

  it('lists the variables SQL uses, without the macros', () => {
    assert.deepEqual(variablesUsed('$__timeFilter(t) AND ${a} $b $__interval_s ${c:csv}'), ['a', 'b', 'c']);
  });
});
