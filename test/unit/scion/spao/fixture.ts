// Two clusters of the demo as DRKey ASes: zurich (A) sends to frankfurt (B). A issues
// K_{A,B}; B's control plane holds it in a Level1Store and each B node derives its own key.
import { deriveAsHost } from '../../../../scion/drkey/derive';
import { NS } from '../../../../scion/drkey/epoch';
import { DrkeyIssuer, type Level1Key } from '../../../../scion/drkey/level1';
import { PROTOCOL_CILLION_IDENTITY } from '../../../../scion/drkey/protocol';
import { Level1Store } from '../../../../scion/drkey/level1_store';
import { parseIA } from '../../../../scion/isdas';
import { encodePacket, type HostAddr, type ScionPacket } from '../../../../scion/packet';
import type { ScionPath } from '../../../../scion/path/model';
import type { EpochKey } from '../../../../scion/spao/key_select';
import { sealSpao, spaoOption } from '../../../../scion/spao/seal';
import { makeDrkeySpi } from '../../../../scion/spao/spi';

/** The DRKey verifier's own tests use a DRKey SPI: AS-host keys of the Cillion protocol. */
export const AS_HOST_SPI = makeDrkeySpi({ protocol: PROTOCOL_CILLION_IDENTITY, type: 'as-host', direction: 'sender' });

/** K_{A,B:H_B} of the Cillion protocol from the generic Level 1 key, with its epoch. */
export function asHostKey(level1: Level1Key, receiver: HostAddr): EpochKey {
  return { epoch: { ...level1.epoch }, key: deriveAsHost({ generic: PROTOCOL_CILLION_IDENTITY }, level1.key, receiver) };
}

export const ZURICH = parseIA('64-2:0:20');
export const FRANKFURT = parseIA('65-2:0:20');
export const SENDER_NODE: HostAddr = { kind: 'IPv4', bytes: new Uint8Array([10, 20, 0, 2]) };
export const RECEIVER_NODE: HostAddr = { kind: 'IPv4', bytes: new Uint8Array([10, 30, 0, 3]) };
/** 6-minute epochs (the shortest DRKey allows) so tests cross epoch boundaries cheaply. */
export const EPOCH_S = 360;
/** An instant in the middle of an epoch. */
export const T0_S = 1_780_000_200;
export const T0_NS = BigInt(T0_S) * NS;

export const zurich = new DrkeyIssuer({ localIA: ZURICH, masterSecret: new Uint8Array(32).fill(7), epochSeconds: EPOCH_S });
export const impostor = new DrkeyIssuer({ localIA: ZURICH, masterSecret: new Uint8Array(32).fill(9), epochSeconds: EPOCH_S });

/** Frankfurt's store after fetching zurich's keys for the epochs around `atS`. */
export function frankfurtStore(atS = T0_S): Level1Store {
  const store = new Level1Store(FRANKFURT);
  for (const off of [-1, 0, 1]) store.put(zurich.level1(FRANKFURT, atS, off));
  return store;
}

export const path: ScionPath = {
  type: 'SCION',
  meta: { currInf: 0, currHf: 0, segLens: [2, 0, 0] },
  infoFields: [{ consDir: true, peer: false, segId: 0x1234, timestamp: T0_S - 100 }],
  hopFields: [
    { ingressAlert: false, egressAlert: false, expTime: 63, consIngress: 0, consEgress: 1, mac: new Uint8Array(6).fill(1) },
    { ingressAlert: false, egressAlert: false, expTime: 63, consIngress: 2, consEgress: 0, mac: new Uint8Array(6).fill(2) },
  ],
};

/** A UDP packet from zurich's node to frankfurt's, with an unsealed SPAO for `sendNs`. */
export function unsealedPacket(sendNs: bigint, issuer = zurich, payload = 'identity 0x01010100'): ScionPacket {
  const key = asHostKey(issuer.level1(FRANKFURT, Number(sendNs / NS)), RECEIVER_NODE);
  return {
    common: { version: 0, trafficClass: 0, flowId: 7, nextHdr: 0, hdrLen: 0, payloadLen: 0, pathType: 'SCION' },
    dstIA: FRANKFURT,
    srcIA: ZURICH,
    dst: RECEIVER_NODE,
    src: SENDER_NODE,
    path,
    extensions: [{ kind: 'E2E', options: [spaoOption(AS_HOST_SPI, key, sendNs)] }],
    l4: { kind: 'UDP', srcPort: 30041, dstPort: 30041, length: 0, checksum: null, payload: new Uint8Array(Buffer.from(payload)) },
  };
}

/** The sealed bytes of unsealedPacket. */
export function sealedPacket(sendNs: bigint, issuer = zurich, payload?: string): Uint8Array {
  const key = asHostKey(issuer.level1(FRANKFURT, Number(sendNs / NS)), RECEIVER_NODE);
  return sealSpao(encodePacket(unsealedPacket(sendNs, issuer, payload)), key.key);
}
