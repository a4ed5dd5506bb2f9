// The programs must be compiled with the layout the decoders use. The reference is the BTF
// clang emitted for bpf/include/cillion_abi.h inside the datapath build (bpf/build/abi.bpf.o,
// read by bpftool), against bpf/abi_layout.gen.ts, which the decoders import.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { COUNTERS, DIRECTIONS, REC_PACKET, VERDICTS } from '../../bpf/abi';
import { ENUMS, STRUCTS } from '../../bpf/abi_layout.gen';
import { layoutDrift } from '../../bpf/layout/drift';
import { objectLayout } from '../../bpf/layout/extract';
import { requireDatapath } from './harness/require';

describe('datapath ABI: the programs\' BTF against bpf/abi_layout.gen.ts', function () {
  requireDatapath(this);
  const object = join(__dirname, '..', '..', 'bpf', 'build', 'abi.bpf.o');

  it('every struct member and enum value sits where the generated layout says', () => {
    const compiled = objectLayout(object, { structs: Object.keys(STRUCTS), enums: Object.keys(ENUMS) });
    const drift = layoutDrift({ ...compiled, defines: {} }, { structs: STRUCTS, enums: ENUMS, defines: {} }, 'bpf/abi_layout.gen.ts');
    assert.deepEqual(drift, []);
    assert.ok(compiled.structs.cil_packet_record.size > 0, 'the record is in the BTF');
  });

  it('the decoders name every counter, direction and verdict of the header', () => {
    const counters = Object.keys(ENUMS.cil_counter).filter((k) => !/(_MAX|_NONE)$/.test(k));
    assert.deepEqual(Object.keys(COUNTERS).sort(), counters.map((k) => k.replace(/^CIL_(DROP|CNT)_/, '')).sort());
    assert.equal(REC_PACKET, ENUMS.cil_record_type.CIL_REC_PACKET);
    assert.deepEqual(Object.values(DIRECTIONS), ['EGRESS_ENCAP', 'INGRESS_DECAP', 'ROUTER_FORWARD']);
    assert.deepEqual(VERDICTS, { 1: 'FORWARDED', 2: 'DROPPED' });
  });
});
