import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ScionError } from '../../../../scion/errors';
import {
  decodePacket,
  encodePacket,
  type ExtOption,
  type Extension,
  type HostAddr,
  type L4,
  type Path,
  type ScionPacket,
  type ScmpBody,
} from '../../../../scion/packet';
import type { HopField, InfoField, ScionPath } from '../../../../scion/path/model';
import { VECTORS } from './vectors';

/** Decodes and insists on the contract: a packet, or a ScionError with a code and an in-range offset. */
function decodeOrScionError(bytes: Uint8Array): ScionPacket | null {
  try {
    return decodePacket(bytes);
  } catch (e) {
    if (!(e instanceof ScionError)) throw new Error(`decode threw ${String(e)} for ${Buffer.from(bytes).toString('hex')}`);
    assert.ok(e.offset >= 0 && e.offset <= bytes.length, `offset ${e.offset} outside the ${bytes.length} input bytes`);
    return null;
  }
}

/** A decoded packet must re-encode, and decoding that again must give the same packet. */
function assertStable(p: ScionPacket): void {
  assert.deepEqual(decodePacket(encodePacket(p)), p);
}

// Plain objects, like the decoder builds (fast-check's records default to a null prototype).
const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

const hostAddr: fc.Arbitrary<HostAddr> = fc.oneof(
  bytes(4).map((b) => ({ kind: 'IPv4' as const, bytes: b })),
  bytes(16).map((b) => ({ kind: 'IPv6' as const, bytes: b })),
  u16.map((svc) => ({ kind: 'SVC' as const, svc })),
  fc
    .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 4 }))
    // type 0 with 4 or 16 bytes and type 1 with 4 bytes are the defined kinds above
    .filter(([t, n]) => !(t === 0 && (n === 1 || n === 4)) && !(t === 1 && n === 1))
    .chain(([t, n]) => bytes(4 * n).map((b) => ({ kind: 'Raw' as const, addrType: t, bytes: b }))),
);

const infoField: fc.Arbitrary<InfoField> = record({ consDir: fc.boolean(), peer: fc.boolean(), segId: u16, timestamp: u32 });
const hopField: fc.Arbitrary<HopField> = record({
  ingressAlert: fc.boolean(),
  egressAlert: fc.boolean(),
  expTime: fc.integer({ min: 0, max: 255 }),
  consIngress: u16,
  consEgress: u16,
  mac: bytes(6),
});

const scionPath: fc.Arbitrary<ScionPath> = fc
  .array(fc.integer({ min: 1, max: 8 }), { minLength: 0, maxLength: 3 })
  .chain((lens) => {
    const hops = lens.reduce((a, b) => a + b, 0);
    const segLens: [number, number, number] = [lens[0] ?? 0, lens[1] ?? 0, lens[2] ?? 0];
    return record({
      type: fc.constant('SCION' as const),
      meta: (hops === 0 ? fc.constant(0) : fc.integer({ min: 0, max: hops - 1 })).map((currHf) => ({
        currInf: currHf < segLens[0] ? 0 : currHf < segLens[0] + segLens[1] ? 1 : hops === 0 ? 0 : 2,
        currHf,
        segLens,
      })),
      infoFields: fc.array(infoField, { minLength: lens.length, maxLength: lens.length }),
      hopFields: fc.array(hopField, { minLength: hops, maxLength: hops }),
    });
  });

const path: fc.Arbitrary<Path> = fc.oneof(
  fc.constant({ type: 'Empty' as const }),
  scionPath,
  record({ type: fc.constant('OneHop' as const), info: infoField, firstHop: hopField, secondHop: hopField }),
  record({
    type: fc.constant('EPIC' as const),
    pktIdTimestamp: u32,
    pktIdCounter: u32,
    phvf: bytes(4),
    lhvf: bytes(4),
    scion: scionPath,
  }),
);

function optionSize(o: ExtOption): number {
  if (o.kind === 'Pad1') return 1;
  if (o.kind === 'SPAO') return 14 + o.authenticator.length;
  return 2 + o.data.length;
}

/** Pads the options so the header (2 bytes + options) is a multiple of 4, as senders must. */
function padded(options: ExtOption[]): ExtOption[] {
  const rest = (4 - ((2 + options.reduce((a, o) => a + optionSize(o), 0)) % 4)) % 4;
  if (rest === 0) return options;
  if (rest === 1) return [...options, { kind: 'Pad1', type: 0 }];
  return [...options, { kind: 'PadN', type: 1, data: new Uint8Array(rest - 2) }];
}

const option = (e2e: boolean): fc.Arbitrary<ExtOption> =>
  fc.oneof(
    fc.constant({ kind: 'Pad1' as const, type: 0 as const }),
    fc.uint8Array({ maxLength: 6 }).map((data) => ({ kind: 'PadN' as const, type: 1 as const, data })),
    record({
      kind: fc.constant('Raw' as const),
      type: fc.integer({ min: e2e ? 3 : 2, max: 255 }),
      data: fc.uint8Array({ maxLength: 20 }),
    }),
    ...(e2e
      ? [
          record({
            kind: fc.constant('SPAO' as const),
            type: fc.constant(2 as const),
            spi: u32,
            algorithm: fc.integer({ min: 0, max: 255 }),
            timestampSeq: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
            authenticator: fc.uint8Array({ maxLength: 32 }),
          }),
        ]
      : []),
  );

const extension = (kind: Extension['kind']): fc.Arbitrary<Extension> =>
  fc.array(option(kind === 'E2E'), { maxLength: 5 }).map((options) => ({ kind, options: padded(options) }));

const extensions: fc.Arbitrary<Extension[]> = fc
  .tuple(fc.option(extension('HBH')), fc.option(extension('E2E')))
  .map(([h, e]) => [h, e].filter((x): x is Extension => x !== null));

const scmpBody: fc.Arbitrary<[number, ScmpBody]> = fc.oneof(
  fc.constant<[number, ScmpBody]>([1, { kind: 'DestinationUnreachable' }]),
  u16.map((mtu): [number, ScmpBody] => [2, { kind: 'PacketTooBig', mtu }]),
  u16.map((pointer): [number, ScmpBody] => [4, { kind: 'ParameterProblem', pointer }]),
  fc.tuple(u64, u64).map(([ia, interfaceId]): [number, ScmpBody] => [5, { kind: 'ExternalInterfaceDown', ia, interfaceId }]),
  fc
    .tuple(u64, u64, u64)
    .map(([ia, ingressId, egressId]): [number, ScmpBody] => [6, { kind: 'InternalConnectivityDown', ia, ingressId, egressId }]),
  fc
    .tuple(fc.boolean(), u16, u16)
    .map(([req, identifier, sequence]): [number, ScmpBody] => [
      req ? 128 : 129,
      { kind: req ? 'EchoRequest' : 'EchoReply', identifier, sequence },
    ]),
  fc
    .tuple(fc.boolean(), u16, u16, u64, u64)
    .map(([req, identifier, sequence, ia, interfaceId]): [number, ScmpBody] => [
      req ? 130 : 131,
      { kind: req ? 'TracerouteRequest' : 'TracerouteReply', identifier, sequence, ia, interfaceId },
    ]),
  fc
    .integer({ min: 0, max: 255 })
    .filter((t) => ![1, 2, 4, 5, 6, 128, 129, 130, 131].includes(t))
    .map((t): [number, ScmpBody] => [t, { kind: 'Unknown' }]),
);

const payload = fc.uint8Array({ maxLength: 40 });

const l4: fc.Arbitrary<L4> = fc.oneof(
  record({ srcPort: u16, dstPort: u16, checksum: u16, payload }).map((u) => ({
    kind: 'UDP' as const,
    ...u,
    length: 8 + u.payload.length,
  })),
  fc.tuple(scmpBody, fc.integer({ min: 0, max: 255 }), u16, payload).map(([[type, body], code, checksum, data]) => ({
    kind: 'SCMP' as const,
    type,
    code,
    checksum,
    body,
    payload: data,
  })),
  record({
    kind: fc.constant('Raw' as const),
    nextHdr: fc.integer({ min: 0, max: 255 }).filter((n) => ![17, 200, 201, 202].includes(n)),
    payload,
  }),
);

// Derived header fields recomputed from the spec's length rules, independently of the encoder.
const addrLen = (h: HostAddr) => (h.kind === 'IPv4' || h.kind === 'SVC' ? 4 : h.kind === 'IPv6' ? 16 : h.bytes.length);
const scionLen = (p: ScionPath) => 4 + 8 * p.infoFields.length + 12 * p.hopFields.length;
const pathLen = (p: Path) =>
  p.type === 'Empty' ? 0 : p.type === 'SCION' ? scionLen(p) : p.type === 'OneHop' ? 32 : 16 + scionLen(p.scion);
const extLen = (e: Extension) => 2 + e.options.reduce((a, o) => a + optionSize(o), 0);
const scmpInfoLen: Record<ScmpBody['kind'], number> = {
  DestinationUnreachable: 4, PacketTooBig: 4, ParameterProblem: 4, ExternalInterfaceDown: 16,
  InternalConnectivityDown: 24, EchoRequest: 4, EchoReply: 4, TracerouteRequest: 20, TracerouteReply: 20, Unknown: 0,
};
const l4Len = (l: L4) =>
  l.kind === 'UDP' ? 8 + l.payload.length : l.kind === 'SCMP' ? 4 + scmpInfoLen[l.body.kind] + l.payload.length : l.payload.length;
const l4Proto = (l: L4) => (l.kind === 'UDP' ? 17 : l.kind === 'SCMP' ? 202 : l.nextHdr);

const packet: fc.Arbitrary<ScionPacket> = fc
  .record({
    trafficClass: fc.integer({ min: 0, max: 255 }),
    flowId: fc.integer({ min: 0, max: 0xfffff }),
    dstIA: u64,
    srcIA: u64,
    dst: hostAddr,
    src: hostAddr,
    path,
    extensions,
    l4,
  })
  .map((r) => ({
    common: {
      version: 0,
      trafficClass: r.trafficClass,
      flowId: r.flowId,
      nextHdr: r.extensions.length > 0 ? (r.extensions[0]!.kind === 'HBH' ? 200 : 201) : l4Proto(r.l4),
      hdrLen: 12 + 16 + addrLen(r.dst) + addrLen(r.src) + pathLen(r.path),
      payloadLen: r.extensions.reduce((a, e) => a + extLen(e), 0) + l4Len(r.l4),
      pathType: r.path.type,
    },
    dstIA: r.dstIA,
    srcIA: r.srcIA,
    dst: r.dst,
    src: r.src,
    path: r.path,
    extensions: r.extensions,
    l4: r.l4,
  }));

describe('scion/packet: properties', function () {
  this.timeout(20000);

  it('round-trips generated packets both ways, derived fields included', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const wire = encodePacket(p);
        const back = decodePacket(wire);
        assert.deepEqual(back, p);
        assert.deepEqual(encodePacket(back), wire);
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes give a packet or a ScionError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const p = decodeOrScionError(b);
        if (p) assertStable(p);
      }),
      { numRuns: 5000 },
    );
  });

  it('random bytes behind a plausible common header give a packet or a ScionError', () => {
    // Version 0, a small HdrLen and PayloadLen matching the tail, so decoding gets past the first checks.
    const plausible = fc
      .tuple(bytes(12), fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 160 }), fc.integer({ min: 9, max: 40 }))
      .map(([head, pathType, tail, hdrUnits]) => {
        const b = new Uint8Array(12 + tail.length);
        b.set(head);
        b.set(tail, 12);
        b[0]! &= 0x0f;
        b[5] = hdrUnits;
        b[8] = pathType;
        const payloadLen = Math.max(0, b.length - hdrUnits * 4);
        b[6] = payloadLen >> 8;
        b[7] = payloadLen & 0xff;
        return b;
      });
    fc.assert(
      fc.property(plausible, (b) => {
        const p = decodeOrScionError(b);
        if (p) assertStable(p);
      }),
      { numRuns: 5000 },
    );
  });

  it('mutated valid packets give a packet or a ScionError', () => {
    const valid = fc.oneof(
      fc.constantFrom(...VECTORS.map((v) => v.bytes)),
      packet.map((p) => encodePacket(p)),
    );
    const mutation = fc.oneof(
      record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 7 }) }),
      record({ op: fc.constant('cut' as const), at: fc.nat(), value: fc.constant(0) }),
      record({ op: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      record({ op: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(valid, fc.array(mutation, { minLength: 1, maxLength: 4 }), (orig, muts) => {
        let b = orig.slice();
        for (const m of muts) {
          const at = b.length === 0 ? 0 : m.at % b.length;
          if (m.op === 'set' && b.length > 0) b[at] = m.value;
          else if (m.op === 'flip' && b.length > 0) b[at]! ^= 1 << m.value;
          else if (m.op === 'cut') b = b.slice(0, at);
          else if (m.op === 'insert') b = new Uint8Array([...b.subarray(0, at), m.value, ...b.subarray(at)]);
          else if (m.op === 'delete') b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + 1)]);
        }
        const p = decodeOrScionError(b);
        if (p) assertStable(p);
      }),
      { numRuns: 5000 },
    );
  });
});
