import assert from 'node:assert/strict';
import { Session } from 'chdb';
import {
  arrayColumn, constIntColumn, fixedColumn, float64Column, intColumn, lowCardinalityColumn, nativeBlock,
  nullableColumn, stringColumn, uuidHalfColumn, type NativeColumn,
} from '../../../../relay/store/native';

/** What chdb itself writes for `sql` in Native: the golden bytes. */
async function chdbNative(session: Session, sql: string): Promise<Buffer> {
  return Buffer.from((await session.queryAsync(sql, { format: 'Native' })).bytes());
}

const le = (width: number, values: number[]) => {
  const b = Buffer.alloc(width * values.length);
  values.forEach((v, i) => b.writeUIntLE(v, i * width, width));
  return b;
};

describe('relay/store native writer', function () {
  this.timeout(20_000);
  let session: Session;
  before(() => {
    session = new Session();
  });
  after(() => session.close());

  async function same(sql: string, columns: Array<[string, NativeColumn]>): Promise<void> {
    const ours = nativeBlock(columns);
    const theirs = await chdbNative(session, sql);
    assert.equal(ours.toString('hex'), theirs.toString('hex'));
  }

  it('writes integers, enums and times as chdb does, copied or picked by keep', async () => {
    const enum8 = "Enum8('' = 0, 'TCP' = 1, 'UDP' = 2)";
    await same(
      `SELECT toUInt8(number) AS a, toUInt16(number * 300) AS b, toUInt32(number * 70000) AS c, toUInt64(number) * 5000000000 AS d,
         toInt16(toInt16(number) - 2) AS e, CAST(number % 3 AS ${enum8}) AS f, toDateTime(1700000000 + number) AS g,
         fromUnixTimestamp64Nano(toInt64(1700000000123456789 + number * 1000000000), 'UTC') AS h, toUInt32(7) AS k
       FROM numbers(3)`,
      [
        ['a', fixedColumn('UInt8', 1, le(1, [0, 1, 2]))],
        ['b', fixedColumn('UInt16', 2, le(2, [0, 300, 600]))],
        ['c', intColumn('UInt32', [0, 70000, 140000])],
        ['d', intColumn('UInt64', [0n, 5000000000n, 10000000000n])],
        ['e', intColumn('Int16', [-2, -1, 0])],
        ['f', fixedColumn(enum8, 1, le(1, [9, 0, 1, 2]), new Uint32Array([1, 2, 3]))],
        ['g', intColumn('DateTime', [1700000000, 1700000001, 1700000002])],
        ['h', intColumn("DateTime64(9, 'UTC')", [1700000000123456789n, 1700000001123456789n, 1700000002123456789n])],
        ['k', constIntColumn('UInt32', 7, 3)],
      ],
    );
  });

  it('writes the halves of UUIDs from RFC 4122 bytes as the UInt64s the engine takes them for', async () => {
    const rfc = Buffer.from('00112233445566778899aabbccddeeff' + 'f0e1d2c3b4a5968778695a4b3c2d1e0f', 'hex');
    const halves = (u: string) => `toUInt64(bitShiftRight(toUInt128(${u}), 64)) AS hi, toUInt64(toUInt128(${u})) AS lo`;
    await same(
      `SELECT ${halves('u')} FROM (SELECT arrayJoin([toUUID('00112233-4455-6677-8899-aabbccddeeff'), toUUID('f0e1d2c3-b4a5-9687-7869-5a4b3c2d1e0f')]) AS u)`,
      [['hi', uuidHalfColumn(rfc, 0)], ['lo', uuidHalfColumn(rfc, 1)]],
    );
    await same(`SELECT ${halves("toUUID('f0e1d2c3-b4a5-9687-7869-5a4b3c2d1e0f')")}`, [['hi', uuidHalfColumn(rfc, 0, new Uint32Array([1]))], ['lo', uuidHalfColumn(rfc, 1, new Uint32Array([1]))]]);
  });

  it('writes LowCardinality(String) as a dictionary with "" first and per-row indexes', async () => {
    await same(
      `SELECT CAST(['b', '', 'a', 'b'][number + 1] AS LowCardinality(String)) AS s FROM numbers(4)`,
      [['s', lowCardinalityColumn(['', 'b', 'a'], new Uint8Array([1, 0, 2, 1]))]],
    );
    // More keys than an 8-bit index holds: 16-bit indexes.
    const keys = ['', ...Array.from({ length: 299 }, (_, i) => `k${i}`)];
    await same(
      `SELECT CAST(if(number = 0, '', concat('k', toString(number - 1))) AS LowCardinality(String)) AS s FROM numbers(300)`,
      [['s', lowCardinalityColumn(keys, Uint16Array.from(keys, (_, i) => i))]],
    );
  });

  it('writes String, Nullable, Float64 and Array columns, nested', async () => {
    await same(
      `SELECT ['x', 'éé', ''][number + 1] AS s, CAST(if(number = 1, NULL, number * 7) AS Nullable(UInt64)) AS n,
         [1.5, -0.25, 0][number + 1] AS f,
         [['a', 'bc'], [], ['d']][number + 1] AS arr,
         [[CAST(NULL AS Nullable(Float64)), 2.5], [], [1]][number + 1] AS an
       FROM numbers(3)`,
      [
        ['s', stringColumn(['x', 'éé', Buffer.alloc(0)])],
        ['n', nullableColumn(new Uint8Array([0, 1, 0]), intColumn('UInt64', [0, 7, 14]))],
        ['f', float64Column([1.5, -0.25, 0])],
        ['arr', arrayColumn([2, 0, 1], stringColumn(['a', 'bc', 'd']))],
        ['an', arrayColumn([2, 0, 1], nullableColumn(new Uint8Array([1, 0, 0]), float64Column([0, 2.5, 1])))],
      ],
    );
  });

  it('refuses columns of unequal length and dictionaries without "" first', () => {
    assert.throws(() => nativeBlock([['a', intColumn('UInt8', [1])], ['b', intColumn('UInt8', [1, 2])]]), /rows/);
    assert.throws(() => lowCardinalityColumn(['x'], new Uint8Array([0])), /starts with ""/);
    assert.throws(() => arrayColumn([2], stringColumn(['a'])), /add up/);
  });
});
