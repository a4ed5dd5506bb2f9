import assert from 'node:assert/strict';
import { decodePacket, encodePacket, type ScionPacket } from '../../../../scion/packet';
import { assertBytes, VECTORS } from './vectors';

describe('scion/packet: spec-built vectors', () => {
  for (const v of VECTORS) {
    describe(v.name, () => {
      it('decodes to the model', () => {
        assert.deepEqual(decodePacket(v.bytes), v.packet);
      });

      it('encodes to the bytes', () => {
        assertBytes(encodePacket(v.packet), v.bytes);
      });

      it('recomputes every derived field', () => {
        const p = structuredClone(v.packet);
        p.common = { ...p.common, nextHdr: 0, hdrLen: 0, payloadLen: 0, pathType: 'Empty' };
        if (p.l4.kind === 'UDP') p.l4.length = 0;
        assertBytes(encodePacket(p), v.bytes);
      });

      const l4 = v.packet.l4;
      if (l4.kind === 'Raw') return;
      it('computes the checksum when asked or when it is null', () => {
        const p: ScionPacket = { ...v.packet, l4: { ...l4, checksum: null } };
        assertBytes(encodePacket(p), v.bytes);
        const wrong: ScionPacket = { ...v.packet, l4: { ...l4, checksum: 0x1111 } };
        assertBytes(encodePacket(wrong, { computeChecksums: true }), v.bytes);
        assert.notDeepEqual(encodePacket(wrong), v.bytes);
      });
    });
  }

  it('decodes from a Buffer view at a non-zero offset into plain, unaliased arrays', () => {
    const v = VECTORS[0]!;
    const backing = Buffer.alloc(v.bytes.length + 3);
    backing.set(v.bytes, 3);
    const view = backing.subarray(3);
    const p = decodePacket(view);
    assert.deepEqual(p, v.packet);
    backing.fill(0);
    assert.deepEqual(p, v.packet);
  });

  it('with share, returns views into the input instead of copies', () => {
    const v = VECTORS[0]!;
    const bytes = v.bytes.slice();
    const p = decodePacket(bytes, { share: true });
    assert.deepEqual(p, v.packet);
    bytes[bytes.length - 1] = 0x21;
    assert.equal(p.l4.kind === 'UDP' && p.l4.payload[4], 0x21);
  });
});

// Each SCMP message type behind a fixed Empty-path header; PayloadLen is the only field
// that changes from case to case.
describe('scion/packet: SCMP types', () => {
  const header = (payloadLen: number) => [
    0x00, 0x00, 0x00, 0x01, // Version 0 | TrafficClass 0 | FlowID 1
    202, 9, payloadLen >> 8, payloadLen & 0xff, // NextHdr 202 (SCMP) | HdrLen 9 | PayloadLen
    0, 0x00, 0x00, 0x00, // PathType 0 (Empty) | IPv4 / IPv4 | RSV
    0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x01, 0x10, // DstISD 1, DstAS ff00:0:110
    0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x01, 0x11, // SrcISD 1, SrcAS ff00:0:111
    10, 0, 0, 1, // DstHostAddr 10.0.0.1
    10, 0, 0, 2, // SrcHostAddr 10.0.0.2
  ];
  const IA = 0x0001_ff00_0000_0110n;
  const cases: { name: string; scmp: number[]; l4: Record<string, unknown> }[] = [
    {
      name: 'Destination Unreachable',
      scmp: [1, 4, 0xbe, 0xef, 0, 0, 0, 0, 0xab], // Type 1 | Code 4 | Checksum | Unused | quoted packet
      l4: { type: 1, code: 4, body: { kind: 'DestinationUnreachable' }, payload: [0xab] },
    },
    {
      name: 'Packet Too Big',
      scmp: [2, 0, 0xbe, 0xef, 0, 0, 0x05, 0xdc, 0xab], // Type 2 | Code 0 | Checksum | reserved | MTU 1500 | quoted
      l4: { type: 2, code: 0, body: { kind: 'PacketTooBig', mtu: 1500 }, payload: [0xab] },
    },
    {
      name: 'Parameter Problem',
      scmp: [4, 48, 0xbe, 0xef, 0, 0, 0x00, 0x30], // Type 4 | Code 48 (invalid path) | Checksum | reserved | Pointer 48
      l4: { type: 4, code: 48, body: { kind: 'ParameterProblem', pointer: 48 }, payload: [] },
    },
    {
      name: 'External Interface Down',
      scmp: [
        5, 0, 0xbe, 0xef, // Type 5 | Code 0 | Checksum
        0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x01, 0x10, // ISD 1, AS ff00:0:110
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, // Interface ID 258
      ],
      l4: { type: 5, code: 0, body: { kind: 'ExternalInterfaceDown', ia: IA, interfaceId: 258n }, payload: [] },
    },
    {
      name: 'Internal Connectivity Down',
      scmp: [
        6, 0, 0xbe, 0xef, // Type 6 | Code 0 | Checksum
        0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x01, 0x10, // ISD 1, AS ff00:0:110
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // Ingress Interface ID 1
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // Egress Interface ID 2^64-1
        0xab, 0xcd, //                                     quoted packet
      ],
      l4: {
        type: 6,
        code: 0,
        body: { kind: 'InternalConnectivityDown', ia: IA, ingressId: 1n, egressId: (1n << 64n) - 1n },
        payload: [0xab, 0xcd],
      },
    },
    {
      name: 'Echo Reply',
      scmp: [129, 0, 0xbe, 0xef, 0x00, 0x07, 0xff, 0xfe, 1, 2, 3], // Type 129 | Code 0 | Checksum | Identifier 7 | Seq 65534 | Data
      l4: { type: 129, code: 0, body: { kind: 'EchoReply', identifier: 7, sequence: 65534 }, payload: [1, 2, 3] },
    },
    {
      name: 'Traceroute Request',
      scmp: [
        130, 0, 0xbe, 0xef, 0x00, 0x09, 0x00, 0x01, // Type 130 | Code 0 | Checksum | Identifier 9 | Seq 1
        0, 0, 0, 0, 0, 0, 0, 0, //                    ISD, AS placeholders
        0, 0, 0, 0, 0, 0, 0, 0, //                    Interface ID placeholder
      ],
      l4: { type: 130, code: 0, body: { kind: 'TracerouteRequest', identifier: 9, sequence: 1, ia: 0n, interfaceId: 0n }, payload: [] },
    },
    {
      name: 'Traceroute Reply',
      scmp: [
        131, 0, 0xbe, 0xef, 0x00, 0x09, 0x00, 0x01, // Type 131 | Code 0 | Checksum | Identifier 9 | Seq 1
        0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x01, 0x10, // ISD 1, AS ff00:0:110
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, // Interface ID 5
      ],
      l4: { type: 131, code: 0, body: { kind: 'TracerouteReply', identifier: 9, sequence: 1, ia: IA, interfaceId: 5n }, payload: [] },
    },
    {
      name: 'a private-experimentation type, kept as payload',
      scmp: [200, 3, 0xbe, 0xef, 9, 8, 7], // Type 200 | Code 3 | Checksum | everything else
      l4: { type: 200, code: 3, body: { kind: 'Unknown' }, payload: [9, 8, 7] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const bytes = new Uint8Array([...header(c.scmp.length), ...c.scmp]);
      const p = decodePacket(bytes);
      assert.deepEqual(p.l4, {
        kind: 'SCMP',
        checksum: 0xbeef,
        ...c.l4,
        payload: new Uint8Array(c.l4.payload as number[]),
      });
      assertBytes(encodePacket(p), bytes);
    });
  }
});
