// The Native reader against chdb's own output: every type the flow store selects, blocks
// after blocks, dictionaries wider than a byte, and a result cut short.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openClickHouse, type ClickHouseHandle } from '../../../../relay/store/chdb';
import { NativeFormatError, readNative, type NativeColumn } from '../../../../relay/store/native_reader';

describe('relay/store native_reader', function () {
  this.timeout(60_000);
  let dir: string;
  let ch: ClickHouseHandle;

  async function native(sql: string): Promise<Buffer> {
    const r = await ch.client.exec({ query: `${sql} FORMAT Native` });
    const chunks: Buffer[] = [];
    for await (const c of r.stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  const values = (c: NativeColumn | undefined): unknown[] => {
    switch (c?.kind) {
      case 'number':
      case 'bigint':
        return [...c.values];
      case 'dict':
        return [...c.index].map((i) => c.dict[i]);
      case 'nullable-bigint':
        return [...c.values].map((v, i) => (c.nulls[i] ? null : v));
      case 'fixed':
        return Array.from({ length: c.bytes.length / c.width }, (_, i) => Buffer.from(c.bytes.subarray(i * c.width, (i + 1) * c.width)).toString('hex'));
      default:
        throw new Error('no column');
    }
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-native-test-'));
    ch = openClickHouse({ dataDir: dir });
  });
  after(async () => {
    await ch?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads every type the store selects, across blocks, as the engine wrote it', async () => {
    const blocks = readNative(await native(`SELECT toUInt8(number) AS u8, toInt8(-number) AS i8, toUInt16(number * 300) AS u16,
  toInt16(number - 2) AS i16, toUInt32(number * 70000) AS u32, toUInt64(number) * 1000000000000 AS u64, toInt64(number) - 3 AS i64,
  toLowCardinality(toString(number % 2)) AS lc, CAST(number % 3, 'Enum8(\\'a\\' = 0, \\'b\\' = 1, \\'c\\' = 2)') AS e8,
  CAST(number % 2 + 300, 'Enum16(\\'x\\' = 300, \\'y\\' = 301)') AS e16, if(number % 2 = 0, NULL, toUInt64(number)) AS n,
  toUUID('00112233-4455-6677-8899-aabbccddeeff') AS u
FROM numbers(5) SETTINGS max_block_size = 2`));
    assert.deepEqual(blocks.map((b) => b.rows), [2, 2, 1]);
    const col = (name: string) => blocks.flatMap((b) => values(b.columns.get(name)));
    assert.deepEqual(col('u8'), [0, 1, 2, 3, 4]);
    assert.deepEqual(col('i8'), [0, -1, -2, -3, -4]);
    assert.deepEqual(col('u16'), [0, 300, 600, 900, 1200]);
    assert.deepEqual(col('i16'), [-2, -1, 0, 1, 2]);
    assert.deepEqual(col('u32'), [0, 70000, 140000, 210000, 280000]);
    assert.deepEqual(col('u64'), [0n, 1000000000000n, 2000000000000n, 3000000000000n, 4000000000000n]);
    assert.deepEqual(col('i64'), [-3n, -2n, -1n, 0n, 1n]);
    assert.deepEqual(col('lc'), ['0', '1', '0', '1', '0']);
    assert.deepEqual(col('e8'), [0, 1, 2, 0, 1]);
    assert.deepEqual(col('e16'), [300, 301, 300, 301, 300]);
    assert.deepEqual(col('n'), [null, 1n, null, 3n, null]);
    assert.deepEqual(col('u'), Array(5).fill('7766554433221100ffeeddccbbaa9988'));
  });

  it('reads a dictionary of more keys than a byte indexes', async () => {
    const [b] = readNative(await native(`SELECT toLowCardinality(toString(number)) AS s FROM numbers(1000)`));
    const c = b.columns.get('s');
    assert.ok(c?.kind === 'dict' && c.index instanceof Uint16Array);
    assert.deepEqual(values(c).slice(-2), ['998', '999']);
  });

  it('refuses a result cut short or a type it does not read, with its own error', async () => {
    const whole = await native('SELECT toUInt64(number) AS x, toLowCardinality(toString(number)) AS s FROM numbers(10)');
    for (const cut of [3, 20, whole.length - 1]) assert.throws(() => readNative(whole.subarray(0, cut)), NativeFormatError);
    assert.throws(() => readNative(Buffer.from([1, 1, 1, 0x61, 6, ...Buffer.from('String'), 0])), /String is not one the flow store reads/);
  });
});
