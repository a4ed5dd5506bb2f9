// The C header and the TypeScript decoders must agree byte for byte. The reference is the
// BTF clang emitted for bpf/include/cillion_abi.h (bpf/build/abi.bpf.o), read by bpftool.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { COUNTERS, DIRECTIONS, LAYOUTS, REC_PACKET, VERDICTS } from '../../bpf/abi';
import { requireDatapath } from './harness/require';

interface BtfType {
  id: number;
  kind: string;
  name?: string;
  size?: number;
  type_id?: number;
  nr_elems?: number;
  members?: Array<{ name: string; type_id: number; bits_offset: number }>;
  values?: Array<{ name: string; val: number }>;
}

describe('datapath ABI: cillion_abi.h against bpf/abi.ts', function () {
  requireDatapath(this);
  let types: Map<number, BtfType>;
  let byName: Map<string, BtfType>;

  before(() => {
    const file = join(__dirname, '..', '..', 'bpf', 'build', 'abi.bpf.o');
    const btf = JSON.parse(execFileSync('bpftool', ['btf', 'dump', 'file', file, '-j'], { encoding: 'utf8' })) as { types: BtfType[] };
    types = new Map(btf.types.map((t) => [t.id, t]));
    byName = new Map(btf.types.filter((t) => t.name).map((t) => [`${t.kind} ${t.name}`, t]));
  });

  function sizeOf(id: number): number {
    const t = types.get(id) as BtfType;
    switch (t.kind) {
      case 'ARRAY':
        return sizeOf(t.type_id as number) * (t.nr_elems as number);
      case 'TYPEDEF':
      case 'VOLATILE':
      case 'CONST':
        return sizeOf(t.type_id as number);
      default:
        return t.size as number;
    }
  }

  for (const [name, layout] of Object.entries(LAYOUTS)) {
    it(`struct ${name}: size and every member's offset and size`, () => {
      const t = byName.get(`STRUCT ${name}`);
      assert.ok(t, `struct ${name} is in the BTF`);
      assert.equal(t.size, layout.size, 'size');
      const members = new Map((t.members ?? []).map((m) => [m.name, m]));
      assert.deepEqual([...members.keys()].sort(), Object.keys(layout.fields).sort(), 'member names');
      for (const [field, { offset, size }] of Object.entries(layout.fields)) {
        const m = members.get(field) as { bits_offset: number; type_id: number };
        assert.equal(m.bits_offset / 8, offset, `${field} offset`);
        assert.equal(sizeOf(m.type_id), size, `${field} size`);
      }
    });
  }

  function enumValues(name: string): Map<string, number> {
    const t = byName.get(`ENUM ${name}`);
    assert.ok(t, `enum ${name} is in the BTF`);
    return new Map((t.values ?? []).map((v) => [v.name, v.val]));
  }

  it('enum cil_counter: every drop reason and event slot', () => {
    const c = enumValues('cil_counter');
    for (const [name, idx] of Object.entries(COUNTERS)) {
      const cName = idx < 32 ? `CIL_DROP_${name}` : `CIL_CNT_${name}`;
      assert.equal(c.get(cName), idx, cName);
    }
    const named = [...c.keys()].filter((k) => /^CIL_(DROP|CNT)_/.test(k) && !/(_MAX|_NONE)$/.test(k));
    assert.equal(named.length, Object.keys(COUNTERS).length, 'the TypeScript side knows every counter');
  });

  it('record type, directions and verdicts', () => {
    assert.equal(enumValues('cil_record_type').get('CIL_REC_PACKET'), REC_PACKET);
    const d = enumValues('cil_direction');
    for (const [v, name] of Object.entries(DIRECTIONS)) assert.equal(d.get(`CIL_DIR_${name}`), Number(v));
    const verdicts = enumValues('cil_verdict');
    for (const [v, name] of Object.entries(VERDICTS)) assert.equal(verdicts.get(`CIL_VERDICT_${name}`), Number(v));
  });
});
