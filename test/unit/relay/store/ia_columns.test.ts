// The flows table keeps the path's ISD-ASes as UInt64 and reads them as text through SQL
// (flow_columns.ts): the engine's text must be scion/isdas.ts formatIA's, and an older
// store's text must parse to parseIA's number, at the edges of both notations.
import assert from 'node:assert/strict';
import { Session } from 'chdb';
import { iaNumberSql, iaTextSql } from '../../../../relay/store/flow_columns';
import { iaNumber } from '../../../../relay/store/rows';
import { formatIA, parseIA } from '../../../../scion/isdas';

const EDGES = [
  '1-ff00:0:110', '64-2:0:2c', '65535-ffff:ffff:ffff', '1-4294967295', '1-1:0:0', '1-0:1:0', '1-0:0:1:',
  '7-0', '0-5', '1-64512', '0-1:0:0', '65535-0', '1-ff00:0:0',
];

describe('relay/store ISD-AS columns', () => {
  let session: Session;
  before(() => {
    session = new Session();
  });
  after(() => session.close());

  const rows = (sql: string): string[][] => session.query(sql, 'TSV').toString().trimEnd().split('\n').map((l) => l.split('\t'));

  it('formats a stored UInt64 as scion formats the ISD-AS: decimal AS below 2^32, hex groups from there', () => {
    const ias = EDGES.filter((t) => iaNumber(t) !== 0n).map(parseIA);
    assert.ok(ias.length >= 12);
    const back = rows(`SELECT toString(x), ${iaTextSql('x')} FROM (SELECT arrayJoin([${ias.map((ia) => `toUInt64('${ia}')`).join(', ')}]) AS x)`);
    assert.deepEqual(back, ias.map((ia) => [ia.toString(), formatIA(ia)]));
    assert.deepEqual(rows(`SELECT ${iaTextSql('toUInt64(0)')}`), [['']], 'no path');
  });

  it('parses the text an older store holds to the same number, and anything else to 0', () => {
    const texts = [...EDGES, '', 'junk', '1-ff00:0:110:1', '1-', '-1', '1-fffff:0:1', '70000-1', '65536-1', '1-4294967296', '1-99999999999'];
    const back = rows(`SELECT t, toString(${iaNumberSql('t')}) FROM (SELECT arrayJoin([${texts.map((t) => `'${t}'`).join(', ')}]) AS t)`);
    assert.deepEqual(back, texts.map((t) => [t, iaNumber(t).toString()]));
    assert.equal(iaNumber('1-ff00:0:110'), 0x0001ff0000000110n);
    assert.equal(iaNumber('1-4294967295'), 0x0001_0000_ffff_ffffn);
    assert.equal(iaNumber('junk'), 0n);
  });
});
