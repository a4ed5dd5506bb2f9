// SCION packets written out byte by byte from the field tables of scion-header.rst,
// extension-header.rst, authenticator-option.rst and scmp.rst, each with the packet model
// it must decode to. Checksums were checked against the one's-complement sum in checksum.test.ts.
import assert from 'node:assert/strict';
import type { ScionPacket } from '../../../../scion/packet';

/** Compares byte by byte so a failure names the first differing offset. */
export function assertBytes(actual: Uint8Array, expected: Uint8Array): void {
  const n = Math.min(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`byte ${i}: got 0x${actual[i]!.toString(16)}, want 0x${expected[i]!.toString(16)}`);
    }
  }
  assert.equal(actual.length, expected.length, 'length');
}

export interface Vector {
  name: string;
  bytes: Uint8Array;
  packet: ScionPacket;
}

const u8 = (...b: number[]) => new Uint8Array(b);
const IA_1_FF00_0_110 = 0x0001_ff00_0000_0110n;
const IA_2_FF00_0_222 = 0x0002_ff00_0000_0222n;

// SCION path over two segments, HBH and E2E options (with SPAO), UDP.
const scionUdp: Vector = {
  name: 'SCION path, IPv4 -> IPv6 hosts, HBH + E2E(SPAO), UDP',
  bytes: u8(
    // common header
    0x0b, 0x80, 0xde, 0xad, // Version 0 | TrafficClass 0xb8 | FlowID 0x0dead
    200, 29, 0x00, 0x35, //    NextHdr 200 (HBH) | HdrLen 29 (*4 = 116) | PayloadLen 53
    1, 0x03, 0x00, 0x00, //    PathType 1 (SCION) | DT 0 DL 0 (IPv4) ST 0 SL 3 (IPv6) | RSV
    // address header
    0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x01, 0x10, // DstISD 1, DstAS ff00:0:110
    0x00, 0x02, 0xff, 0x00, 0x00, 0x00, 0x02, 0x22, // SrcISD 2, SrcAS ff00:0:222
    192, 0, 2, 1, // DstHostAddr 192.0.2.1
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // SrcHostAddr 2001:db8::1
    // path: PathMetaHdr
    0x42, 0x00, 0x20, 0x80, // CurrINF 1 | CurrHF 2 | RSV | Seg0Len 2 | Seg1Len 2 | Seg2Len 0
    // info field 0
    0x00, 0x00, 0x12, 0x34, // flags (P 0, C 0) | RSV | SegID 0x1234
    0x65, 0x53, 0xf1, 0x00, // Timestamp 1700000000
    // info field 1
    0x03, 0x00, 0xab, 0xcd, // flags (P 1, C 1) | RSV | SegID 0xabcd
    0x65, 0x53, 0xf1, 0x00, // Timestamp 1700000000
    // hop field 0
    0x02, 0x3f, 0x00, 0x01, // flags (I 1, E 0) | ExpTime 63 | ConsIngress 1
    0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, // ConsEgress 0 | MAC
    // hop field 1
    0x01, 0xff, 0x00, 0x03, // flags (I 0, E 1) | ExpTime 255 | ConsIngress 3
    0x00, 0x02, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, // ConsEgress 2 | MAC
    // hop field 2
    0x03, 0x00, 0x00, 0x00, // flags (I 1, E 1) | ExpTime 0 | ConsIngress 0
    0x00, 0x05, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, // ConsEgress 5 | MAC
    // hop field 3
    0x00, 0x10, 0x00, 0x07, // flags 0 | ExpTime 16 | ConsIngress 7
    0x00, 0x00, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, // ConsEgress 0 | MAC
    // hop-by-hop options header
    201, 1, // NextHdr 201 (E2E) | ExtLen 1 ((1 + 1) * 4 = 8 bytes)
    0, //                    Pad1
    253, 1, 0xaa, //         OptType 253 (experimental) | OptDataLen 1 | OptData
    1, 0, //                 PadN | OptDataLen 0
    // end-to-end options header
    17, 7, // NextHdr 17 (UDP) | ExtLen 7 (32 bytes)
    2, 28, // OptType 2 (SPAO) | OptDataLen 12 + 16
    0x01, 0x02, 0x03, 0x04, // Security Parameter Index
    0, 0, //                   Algorithm 0 (AES-CMAC) | RSV
    0x00, 0x00, 0x12, 0x34, 0x56, 0x78, // Timestamp / Sequence Number
    0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, // Authenticator
    0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
    // UDP
    0x9c, 0x40, 0x00, 0x35, // SrcPort 40000 | DstPort 53
    0x00, 0x0d, 0x2e, 0x9a, // Length 13 | Checksum
    0x68, 0x65, 0x6c, 0x6c, 0x6f, // "hello"
  ),
  packet: {
    common: { version: 0, trafficClass: 0xb8, flowId: 0xdead, nextHdr: 200, hdrLen: 116, payloadLen: 53, pathType: 'SCION' },
    dstIA: IA_1_FF00_0_110,
    srcIA: IA_2_FF00_0_222,
    dst: { kind: 'IPv4', bytes: u8(192, 0, 2, 1) },
    src: { kind: 'IPv6', bytes: u8(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01) },
    path: {
      type: 'SCION',
      meta: { currInf: 1, currHf: 2, segLens: [2, 2, 0] },
      infoFields: [
        { consDir: false, peer: false, segId: 0x1234, timestamp: 1700000000 },
        { consDir: true, peer: true, segId: 0xabcd, timestamp: 1700000000 },
      ],
      hopFields: [
        { ingressAlert: true, egressAlert: false, expTime: 63, consIngress: 1, consEgress: 0, mac: u8(1, 2, 3, 4, 5, 6) },
        { ingressAlert: false, egressAlert: true, expTime: 255, consIngress: 3, consEgress: 2, mac: u8(0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6) },
        { ingressAlert: true, egressAlert: true, expTime: 0, consIngress: 0, consEgress: 5, mac: u8(0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6) },
        { ingressAlert: false, egressAlert: false, expTime: 16, consIngress: 7, consEgress: 0, mac: u8(0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6) },
      ],
    },
    extensions: [
      {
        kind: 'HBH',
        options: [
          { kind: 'Pad1', type: 0 },
          { kind: 'Raw', type: 253, data: u8(0xaa) },
          { kind: 'PadN', type: 1, data: u8() },
        ],
      },
      {
        kind: 'E2E',
        options: [
          {
            kind: 'SPAO',
            type: 2,
            spi: 0x01020304,
            algorithm: 0,
            timestampSeq: 0x12345678,
            authenticator: u8(0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf),
          },
        ],
      },
    ],
    l4: { kind: 'UDP', srcPort: 40000, dstPort: 53, length: 13, checksum: 0x2e9a, payload: u8(0x68, 0x65, 0x6c, 0x6c, 0x6f) },
  },
};

// Empty path, service address, SCMP echo request.
const emptyEcho: Vector = {
  name: 'Empty path, SVC CS destination, SCMP Echo Request',
  bytes: u8(
    0x00, 0x00, 0x00, 0x01, // Version 0 | TrafficClass 0 | FlowID 1
    202, 9, 0x00, 0x0c, //     NextHdr 202 (SCMP) | HdrLen 9 (36 bytes) | PayloadLen 12
    0, 0x40, 0x00, 0x00, //    PathType 0 (Empty) | DT 1 DL 0 (SVC) ST 0 SL 0 (IPv4) | RSV
    0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x01, 0x10, // DstISD 1, DstAS ff00:0:110
    0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x01, 0x10, // SrcISD 1, SrcAS ff00:0:110
    0x00, 0x02, 0x00, 0x00, // DstHostAddr SVC CS (0x0002) | 2 reserved bytes
    10, 0, 0, 1, //            SrcHostAddr 10.0.0.1
    128, 0, 0x83, 0xfc, //     SCMP Type 128 (Echo Request) | Code 0 | Checksum
    0x12, 0x34, 0x00, 0x01, // Identifier 0x1234 | Sequence Number 1
    0x70, 0x69, 0x6e, 0x67, // Data "ping"
  ),
  packet: {
    common: { version: 0, trafficClass: 0, flowId: 1, nextHdr: 202, hdrLen: 36, payloadLen: 12, pathType: 'Empty' },
    dstIA: IA_1_FF00_0_110,
    srcIA: IA_1_FF00_0_110,
    dst: { kind: 'SVC', svc: 0x0002 },
    src: { kind: 'IPv4', bytes: u8(10, 0, 0, 1) },
    path: { type: 'Empty' },
    extensions: [],
    l4: {
      kind: 'SCMP',
      type: 128,
      code: 0,
      checksum: 0x83fc,
      body: { kind: 'EchoRequest', identifier: 0x1234, sequence: 1 },
      payload: u8(0x70, 0x69, 0x6e, 0x67),
    },
  },
};

// One-hop path, SCMP External Interface Down quoting the start of a packet.
const oneHopScmp: Vector = {
  name: 'OneHop path, SCMP External Interface Down',
  bytes: u8(
    0x00, 0x00, 0x00, 0x02, // Version 0 | TrafficClass 0 | FlowID 2
    202, 17, 0x00, 0x18, //    NextHdr 202 (SCMP) | HdrLen 17 (68 bytes) | PayloadLen 24
    2, 0x00, 0x00, 0x00, //    PathType 2 (OneHop) | IPv4 / IPv4 | RSV
    0x00, 0x02, 0xff, 0x00, 0x00, 0x00, 0x02, 0x22, // DstISD 2, DstAS ff00:0:222
    0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x01, 0x10, // SrcISD 1, SrcAS ff00:0:110
    10, 0, 0, 2, // DstHostAddr 10.0.0.2
    10, 0, 0, 1, // SrcHostAddr 10.0.0.1
    0x01, 0x00, 0x00, 0x00, // info: flags (C 1) | RSV | SegID 0
    0x65, 0x53, 0xf1, 0x00, // Timestamp 1700000000
    0x00, 0x3f, 0x00, 0x00, // first hop: flags 0 | ExpTime 63 | ConsIngress 0
    0x00, 0x29, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, // ConsEgress 41 | MAC
    0x00, 0x00, 0x00, 0x00, // second hop, left empty for the receiving router
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    5, 0, 0x47, 0x0b, // SCMP Type 5 (External Interface Down) | Code 0 | Checksum
    0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x01, 0x10, // ISD 1, AS ff00:0:110
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x29, // Interface ID 41
    0xde, 0xad, 0xbe, 0xef, // the offending packet (its first bytes)
  ),
  packet: {
    common: { version: 0, trafficClass: 0, flowId: 2, nextHdr: 202, hdrLen: 68, payloadLen: 24, pathType: 'OneHop' },
    dstIA: IA_2_FF00_0_222,
    srcIA: IA_1_FF00_0_110,
    dst: { kind: 'IPv4', bytes: u8(10, 0, 0, 2) },
    src: { kind: 'IPv4', bytes: u8(10, 0, 0, 1) },
    path: {
      type: 'OneHop',
      info: { consDir: true, peer: false, segId: 0, timestamp: 1700000000 },
      firstHop: { ingressAlert: false, egressAlert: false, expTime: 63, consIngress: 0, consEgress: 41, mac: u8(0x11, 0x22, 0x33, 0x44, 0x55, 0x66) },
      secondHop: { ingressAlert: false, egressAlert: false, expTime: 0, consIngress: 0, consEgress: 0, mac: u8(0, 0, 0, 0, 0, 0) },
    },
    extensions: [],
    l4: {
      kind: 'SCMP',
      type: 5,
      code: 0,
      checksum: 0x470b,
      body: { kind: 'ExternalInterfaceDown', ia: IA_1_FF00_0_110, interfaceId: 41n },
      payload: u8(0xde, 0xad, 0xbe, 0xef),
    },
  },
};

// EPIC path, an address type SCION leaves undefined, TCP kept as bytes.
const epicTcp: Vector = {
  name: 'EPIC path, raw 8-byte destination address, TCP payload',
  bytes: u8(
    0x00, 0x00, 0x00, 0x03, // Version 0 | TrafficClass 0 | FlowID 3
    6, 20, 0x00, 0x08, //      NextHdr 6 (TCP) | HdrLen 20 (80 bytes) | PayloadLen 8
    3, 0x90, 0x00, 0x00, //    PathType 3 (EPIC) | DT 2 DL 1 (undefined, 8 bytes) ST 0 SL 0 (IPv4) | RSV
    0x00, 0x01, 0xff, 0x00, 0x00, 0x00, 0x01, 0x10, // DstISD 1, DstAS ff00:0:110
    0x00, 0x02, 0xff, 0x00, 0x00, 0x00, 0x02, 0x22, // SrcISD 2, SrcAS ff00:0:222
    1, 2, 3, 4, 5, 6, 7, 8, // DstHostAddr (8 raw bytes)
    10, 0, 0, 9, //            SrcHostAddr 10.0.0.9
    0x00, 0x00, 0x10, 0x00, // PktID EpicTS 4096
    0x07, 0x00, 0x00, 0x2a, // PktID Counter (CoreID 7, CoreCounter 42)
    0xe1, 0xe2, 0xe3, 0xe4, // PHVF
    0xf1, 0xf2, 0xf3, 0xf4, // LHVF
    0x00, 0x00, 0x10, 0x00, // PathMetaHdr: CurrINF 0 | CurrHF 0 | Seg0Len 1
    0x01, 0x00, 0x55, 0x66, // info: flags (C 1) | RSV | SegID 0x5566
    0x65, 0x53, 0xf1, 0x00, // Timestamp 1700000000
    0x00, 0x3f, 0x00, 0x02, // hop: flags 0 | ExpTime 63 | ConsIngress 2
    0x00, 0x00, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, // ConsEgress 0 | MAC
    0x30, 0x39, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, // TCP bytes (not interpreted)
  ),
  packet: {
    common: { version: 0, trafficClass: 0, flowId: 3, nextHdr: 6, hdrLen: 80, payloadLen: 8, pathType: 'EPIC' },
    dstIA: IA_1_FF00_0_110,
    srcIA: IA_2_FF00_0_222,
    dst: { kind: 'Raw', addrType: 2, bytes: u8(1, 2, 3, 4, 5, 6, 7, 8) },
    src: { kind: 'IPv4', bytes: u8(10, 0, 0, 9) },
    path: {
      type: 'EPIC',
      pktIdTimestamp: 4096,
      pktIdCounter: 0x0700002a,
      phvf: u8(0xe1, 0xe2, 0xe3, 0xe4),
      lhvf: u8(0xf1, 0xf2, 0xf3, 0xf4),
      scion: {
        type: 'SCION',
        meta: { currInf: 0, currHf: 0, segLens: [1, 0, 0] },
        infoFields: [{ consDir: true, peer: false, segId: 0x5566, timestamp: 1700000000 }],
        hopFields: [{ ingressAlert: false, egressAlert: false, expTime: 63, consIngress: 2, consEgress: 0, mac: u8(0x91, 0x92, 0x93, 0x94, 0x95, 0x96) }],
      },
    },
    extensions: [],
    l4: { kind: 'Raw', nextHdr: 6, payload: u8(0x30, 0x39, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01) },
  },
};

export const VECTORS: Vector[] = [scionUdp, emptyEcho, oneHopScmp, epicTcp];
