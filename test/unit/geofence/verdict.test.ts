import assert from 'node:assert/strict';
import { CountryLookup } from '../../../geo/country';
import { evaluate, strongest, type Evaluation } from '../../../geofence/verdict';
import { parseIA } from '../../../scion/isdas';
import { fence, hop, PLACES } from './fixtures';

const spec = (s: Record<string, unknown>) => fence('f', s).spec;
const ZRH = hop('64-2:0:20', { ...PLACES.zurich, country: 'CH' });
const FRA = hop('65-2:0:10', { ...PLACES.frankfurt, country: 'DE' });
const AMS = hop('65-2:0:11', { ...PLACES.amsterdam, country: 'NL' });
const PAR = hop('65-2:0:12', { ...PLACES.paris, country: 'FR' });
const IAD = hop('66-2:0:10', { ...PLACES.ashburn, country: 'US' });
/** Positions only: the country has to come from the coordinates. */
const at = (ia: string, p: { latitude: number; longitude: number }) => hop(ia, p);

describe('geofence evaluate', () => {
  describe('ISD and AS rules', () => {
    const isds = spec({ allow: { isds: [64, 65] } });
    it('passes a path inside the allowed ISDs', () => {
      assert.deepEqual(evaluate(isds, [ZRH, FRA, AMS]), { verdict: 'COMPLIANT', reason: 'all 3 hops are inside the fence' });
    });

    it('names the first hop outside the allowed ISDs', () => {
      assert.deepEqual(evaluate(isds, [ZRH, IAD, AMS]), {
        verdict: 'VIOLATION',
        reason: 'hop 1 (66-2:0:10) is outside the allowed ISDs 64, 65',
        offendingHop: 1,
        offendingIsdAs: parseIA('66-2:0:10'),
        offendingCountry: 'US',
      });
    });

    it('lets an allowed AS in even when its ISD is not allowed (isds and ases are alternatives)', () => {
      const s = spec({ allow: { isds: [64, 65], ases: ['66-2:0:10'] } });
      assert.equal(evaluate(s, [ZRH, IAD, AMS]).verdict, 'COMPLIANT');
      const other = hop('66-2:0:11', { country: 'US' });
      assert.equal(evaluate(s, [ZRH, other]).reason, 'hop 1 (66-2:0:11) is outside the allowed ISDs 64, 65 and AS 66-2:0:10');
    });

    it('refuses a denied ISD and a denied AS', () => {
      assert.equal(evaluate(spec({ deny: { isds: [66] } }), [ZRH, IAD]).reason, 'hop 1 (66-2:0:10) is in ISD 66, which the fence denies');
      assert.equal(evaluate(spec({ deny: { ases: ['65-2:0:11'] } }), [ZRH, FRA, AMS]).reason, 'hop 2 (65-2:0:11) is an AS the fence denies');
      assert.equal(evaluate(spec({ deny: { ases: ['65-2:0:11'] } }), [ZRH, FRA, PAR]).verdict, 'COMPLIANT');
    });

    it('lets deny win over allow', () => {
      const s = spec({ allow: { isds: [64, 65] }, deny: { ases: ['65-2:0:11'] } });
      const e = evaluate(s, [ZRH, FRA, AMS]);
      assert.equal(e.verdict, 'VIOLATION');
      assert.equal(e.offendingHop, 2);
      const c = spec({ allow: { countries: ['EU'] }, deny: { countries: ['NL'] } });
      assert.equal(evaluate(c, [FRA, AMS]).reason, 'hop 1 (65-2:0:11) is in NL, which the fence denies');
    });

    it('needs no position for AS rules alone, and reports no looked-up country then', () => {
      const never = new CountryLookup({ coder: () => assert.fail('looked up a country without country rules') });
      assert.equal(evaluate(isds, [hop('64-2:0:20'), hop('65-2:0:10')], never).verdict, 'COMPLIANT');
      const e = evaluate(isds, [hop('64-2:0:20'), at('67-2:0:10', PLACES.singapore)], never);
      assert.equal(e.verdict, 'VIOLATION');
      assert.equal(e.offendingCountry, undefined);
    });
  });

  describe('country rules', () => {
    const euPlusCh = spec({ allow: { countries: ['EU', 'CH'] } });

    it('takes countries from the metadata', () => {
      assert.equal(evaluate(euPlusCh, [ZRH, FRA, AMS, PAR]).verdict, 'COMPLIANT');
      assert.deepEqual(evaluate(euPlusCh, [ZRH, FRA, IAD, AMS]), {
        verdict: 'VIOLATION',
        reason: 'hop 2 (66-2:0:10) is in US, outside allowed EU, CH',
        offendingHop: 2,
        offendingIsdAs: parseIA('66-2:0:10'),
        offendingCountry: 'US',
      });
    });

    it('trusts the metadata country over the coordinates', () => {
      const declaredFrench = hop('65-2:0:10', { ...PLACES.ashburn, country: 'FR' });
      assert.equal(evaluate(euPlusCh, [ZRH, declaredFrench]).verdict, 'COMPLIANT');
    });

    it('looks countries up from coordinates when the metadata names none', () => {
      const hops = [at('64-2:0:20', PLACES.zurich), at('65-2:0:10', PLACES.frankfurt), at('65-2:0:11', PLACES.amsterdam), at('65-2:0:12', PLACES.paris)];
      assert.equal(evaluate(euPlusCh, hops).verdict, 'COMPLIANT');
      assert.deepEqual(evaluate(euPlusCh, [...hops, at('67-2:0:10', PLACES.singapore)]), {
        verdict: 'VIOLATION',
        reason: 'hop 4 (67-2:0:10) is in SG by its coordinates (1.3521, 103.8198), outside allowed EU, CH',
        offendingHop: 4,
        offendingIsdAs: parseIA('67-2:0:10'),
        offendingCountry: 'SG',
      });
      assert.equal(evaluate(euPlusCh, [at('66-2:0:10', PLACES.ashburn)]).offendingCountry, 'US');
    });

    it('expands the EU group: Switzerland is not in it, the Netherlands are', () => {
      const eu = spec({ allow: { countries: ['EU'] } });
      assert.equal(evaluate(eu, [FRA, AMS, PAR]).verdict, 'COMPLIANT');
      assert.equal(evaluate(eu, [ZRH, FRA]).reason, 'hop 0 (64-2:0:20) is in CH, outside allowed EU');
      const eea = spec({ allow: { countries: ['EEA', 'CH'] } });
      assert.equal(evaluate(eea, [ZRH, IAD]).reason, 'hop 1 (66-2:0:10) is in US, outside allowed EEA, CH');
    });

    it('checks both sites of a hop whose border routers stand in different countries', () => {
      const spanning = { ...hop('65-2:0:10', { ...PLACES.frankfurt, country: 'DE' }), egressSite: { ...PLACES.ashburn } };
      assert.equal(evaluate(euPlusCh, [ZRH, spanning]).reason, "hop 1 (65-2:0:10)'s egress border router is in US by its coordinates (39.0438, -77.4874), outside allowed EU, CH");
    });
  });

  describe('UNVERIFIED', () => {
    const euPlusCh = spec({ allow: { countries: ['EU', 'CH'] } });

    it('for a path without hops', () => {
      assert.deepEqual(evaluate(euPlusCh, []), { verdict: 'UNVERIFIED', reason: 'the path has no hops to check' });
    });

    it('for a hop without a position under country rules', () => {
      assert.deepEqual(evaluate(euPlusCh, [ZRH, hop('64-2:0:10'), FRA]), {
        verdict: 'UNVERIFIED',
        reason: 'hop 1 (64-2:0:10) declares no location, so its country is unknown',
      });
    });

    it('for a hop at sea', () => {
      assert.deepEqual(evaluate(euPlusCh, [ZRH, at('64-2:0:10', PLACES.atlantic), FRA]), {
        verdict: 'UNVERIFIED',
        reason: 'hop 1 (64-2:0:10) is at 45, -40, which lies in no country (at sea or not a valid position), so its country is unknown',
      });
    });

    it('for a hop without ISD-AS under AS rules, and also under deny-only country rules', () => {
      const unknownAs = { isdAs: undefined, ingress: 1, egress: 2, country: 'DE' };
      assert.equal(evaluate(spec({ allow: { isds: [64, 65] } }), [ZRH, unknownAs]).verdict, 'UNVERIFIED');
      assert.equal(evaluate(spec({ allow: { countries: ['EU', 'CH'] } }), [ZRH, unknownAs]).verdict, 'COMPLIANT');
      assert.equal(evaluate(spec({ deny: { countries: ['US'] } }), [ZRH, hop('64-2:0:10')]).verdict, 'UNVERIFIED');
    });

    it('loses to a definite violation anywhere on the path', () => {
      const e = evaluate(euPlusCh, [ZRH, hop('64-2:0:10'), at('66-2:0:10', PLACES.atlantic), IAD, FRA]);
      assert.equal(e.verdict, 'VIOLATION');
      assert.equal(e.offendingHop, 3);
      // Within one hop too: an unknown ISD-AS does not hide a country outside the fence.
      const both = spec({ allow: { isds: [64, 65], countries: ['EU', 'CH'] } });
      assert.equal(evaluate(both, [ZRH, { isdAs: undefined, ingress: 1, egress: 2, country: 'US' }]).verdict, 'VIOLATION');
    });
  });

  describe('strongest', () => {
    const v = (verdict: Evaluation['verdict'], reason: string): Evaluation => ({ verdict, reason });
    it('prefers VIOLATION, then UNVERIFIED, then COMPLIANT, the first of a kind winning', () => {
      assert.equal(strongest([v('COMPLIANT', 'a'), v('UNVERIFIED', 'b'), v('VIOLATION', 'c'), v('VIOLATION', 'd')])?.reason, 'c');
      assert.equal(strongest([v('COMPLIANT', 'a'), v('UNVERIFIED', 'b'), v('UNVERIFIED', 'c')])?.reason, 'b');
      assert.equal(strongest([v('COMPLIANT', 'a'), v('COMPLIANT', 'b')])?.reason, 'a');
      assert.equal(strongest([]), undefined);
    });
  });
});
