import assert from 'node:assert/strict';
import { matches, rejects } from './helpers';

describe('observer/filters: ia', () => {
  const flow = {
    scionPath: {
      srcIa: '1-ff00:0:110',
      dstIa: '2-ff00:0:210',
      hops: [{ isdAs: '1-ff00:0:110' }, { isdAs: '1-ff00:0:120' }, { isdAs: '2-ff00:0:210' }],
    },
  };

  it('src_ia and dst_ia match the path ends, in any AS notation', () => {
    assert.equal(matches({ srcIa: ['1-ff00:0:110'] }, flow), true);
    assert.equal(matches({ srcIa: ['1-ff00_0_110'] }, flow), true);
    assert.equal(matches({ dstIa: ['1-ff00:0:110'] }, flow), false);
    assert.equal(matches({ dstIa: ['2-ff00:0:210'] }, flow), true);
  });

  it('an AS or ISD of 0 is a wildcard', () => {
    assert.equal(matches({ dstIa: ['2-0'] }, flow), true);
    assert.equal(matches({ srcIa: ['2-0'] }, flow), false);
    assert.equal(matches({ srcIa: ['0-ff00:0:110'] }, flow), true);
  });

  it('through_ia matches any hop, including the ends', () => {
    assert.equal(matches({ throughIa: ['1-ff00:0:120'] }, flow), true);
    assert.equal(matches({ throughIa: ['1-ff00:0:130'] }, flow), false);
    assert.equal(matches({ throughIa: ['3-0', '2-0'] }, flow), true);
    assert.equal(matches({ throughIa: ['1-0'] }, {}), false);
  });

  it('refuses text that is not an ISD-AS', () => {
    rejects({ srcIa: ['ff00:0:110'] }, /src_ia: invalid ISD-AS "ff00:0:110"/);
    rejects({ throughIa: ['1-ff00:0:110:1'] }, /through_ia/);
  });
});
