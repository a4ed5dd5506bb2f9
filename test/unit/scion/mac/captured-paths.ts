// SCION paths captured from a running scionproto/scion test topology, with the ASes'
// forwarding keys, as published in lschulz/scapy-scion-int (tests/reference_pkts.pcap,
// tests/reference_pkts_peering.pcap, tests/test_scion_processing.py). The control services
// built these hop fields and SegIDs and the routers forwarded them, so the MACs are an
// independent reference. Raw path bytes are kept next to the decoded form; a test checks
// the two agree.
import type { HopField, InfoField, ScionPath } from '../../../../scion/path/model';

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

function hop(expTime: number, consIngress: number, consEgress: number, mac: string): HopField {
  return { ingressAlert: false, egressAlert: false, expTime, consIngress, consEgress, mac: hex(mac) };
}

function info(consDir: boolean, peer: boolean, segId: number, timestamp: number): InfoField {
  return { consDir, peer, segId, timestamp };
}

/** Hop-field (forwarding) keys of the linear topology, already derived from the master keys. */
export const LINEAR_KEYS: Record<string, Uint8Array> = {
  'ff00:0:1': b64('byql+EpU2czJMKtRSH8ybA=='),
  'ff00:0:2': b64('6kWxcoeOx7QXW5Ydt9p6Ng=='),
  'ff00:0:3': b64('lE8KhaYBJy5xHIYPdQCLMQ=='),
  'ff00:0:4': b64('aKlN2XehHJwdhxWv/wbw0A=='),
  'ff00:0:5': b64('DDxWeC1gVgD2uus6MewSFw=='),
  'ff00:0:6': b64('diKD628EpzWsvOxxJiDBUg=='),
  'ff00:0:7': b64('tAmT1zsbqdHxBmqNjSRxzA=='),
};

/** Owner AS of each hop field of LINEAR_PATH: up 3-2-1, core 1-4-5, down 5-6-7. */
export const LINEAR_HOP_ASES = ['ff00:0:3', 'ff00:0:2', 'ff00:0:1', 'ff00:0:1', 'ff00:0:4', 'ff00:0:5', 'ff00:0:5', 'ff00:0:6', 'ff00:0:7'];

/** Initial random SegIDs (beta_0) of the three beacons, in path order. */
export const LINEAR_BETA0 = [0x9d53, 0x6991, 0x4073];

/** The path as the sender 1-ff00:0:3 emitted it towards 1-ff00:0:7. */
export const LINEAR_PATH_HEX =
  '000030c300003f4361b399d80000d17e61b399d80100407361b399de' +
  '003f0001000046f593ef5038003f0001000298cadaa34c9f003f000000023adae5af4b5a' +
  '003f000100006ceca167226c003f0002000189723a04be84003f00000001319dbf17b383' +
  '003f00000002a9bedad137d1003f00010002ddd8fc08161a003f00010000997279369ae4';

export function linearPath(): ScionPath {
  return {
    type: 'SCION',
    meta: { currInf: 0, currHf: 0, segLens: [3, 3, 3] },
    infoFields: [info(false, false, 0x3f43, 1639160280), info(false, false, 0xd17e, 1639160280), info(true, false, 0x4073, 1639160286)],
    hopFields: [
      hop(63, 1, 0, '46f593ef5038'),
      hop(63, 1, 2, '98cadaa34c9f'),
      hop(63, 0, 2, '3adae5af4b5a'),
      hop(63, 1, 0, '6ceca167226c'),
      hop(63, 2, 1, '89723a04be84'),
      hop(63, 0, 1, '319dbf17b383'),
      hop(63, 0, 2, 'a9bedad137d1'),
      hop(63, 1, 2, 'ddd8fc08161a'),
      hop(63, 1, 0, '997279369ae4'),
    ],
  };
}

/**
 * The same packet as captured at each later point on its way: the router state (CurrINF,
 * CurrHF, the three SegIDs) and whether the next router receives it over an inter-AS link
 * or from the other border router of its own AS.
 */
export const LINEAR_CAPTURES: { currInf: number; currHf: number; segIds: number[]; arrival: 'link' | 'local' }[] = [
  { currInf: 0, currHf: 1, segIds: [0x3f43, 0xd17e, 0x4073], arrival: 'link' },
  { currInf: 0, currHf: 1, segIds: [0xa789, 0xd17e, 0x4073], arrival: 'local' },
  { currInf: 0, currHf: 2, segIds: [0xa789, 0xd17e, 0x4073], arrival: 'link' },
  { currInf: 1, currHf: 3, segIds: [0x9d53, 0xd17e, 0x4073], arrival: 'local' },
  { currInf: 1, currHf: 4, segIds: [0x9d53, 0xd17e, 0x4073], arrival: 'link' },
  { currInf: 1, currHf: 4, segIds: [0x9d53, 0x580c, 0x4073], arrival: 'local' },
  { currInf: 1, currHf: 5, segIds: [0x9d53, 0x580c, 0x4073], arrival: 'link' },
  { currInf: 2, currHf: 6, segIds: [0x9d53, 0x6991, 0x4073], arrival: 'local' },
  { currInf: 2, currHf: 7, segIds: [0x9d53, 0x6991, 0xe9cd], arrival: 'link' },
  { currInf: 2, currHf: 7, segIds: [0x9d53, 0x6991, 0xe9cd], arrival: 'local' },
  { currInf: 2, currHf: 8, segIds: [0x9d53, 0x6991, 0x3415], arrival: 'link' },
  { currInf: 2, currHf: 8, segIds: [0x9d53, 0x6991, 0x3415], arrival: 'local' },
];

/** AS master keys (master0.key, base64) of the peering topology. */
export const PEERING_MASTER_KEYS: Record<string, string> = {
  'ff00:0:2': 'EYDAaz+kjU3oRjIbpKb9KA==',
  'ff00:0:3': 'KaOWYQzTRKxth6snjkpC6w==',
  'ff00:0:4': 'PS9v/wDN+MtPxUMETmSD0Q==',
  'ff00:0:6': 'sqjs0d5RR4WZ9xVYPJQe3w==',
  'ff00:0:7': 'h5uncRJpiDD2fbD849HG1g==',
  'ff00:0:8': 'LozRH4FpmlEj4JJpo4IQLg==',
};

/** Up 4-3-2, peering link 1-ff00:0:2#3 to 2-ff00:0:6#3, down 6-7-8. */
export const PEERING_HOP_ASES = ['ff00:0:4', 'ff00:0:3', 'ff00:0:2', 'ff00:0:6', 'ff00:0:7', 'ff00:0:8'];

export const PEERING_PATH_HEX =
  '000030c00200b1da67ffdaf10300d73c67ffdaf1' +
  '003f0001000010b32138d18c003f00010002cd95d40c1598003f00030002e702a7ed9f68' +
  '003f00030002586bb2a31f99003f000100023f10e97b141e003f00010000ebc021970353';

export function peeringPath(): ScionPath {
  return {
    type: 'SCION',
    meta: { currInf: 0, currHf: 0, segLens: [3, 3, 0] },
    infoFields: [info(false, true, 0xb1da, 1744820977), info(true, true, 0xd73c, 1744820977)],
    hopFields: [
      hop(63, 1, 0, '10b32138d18c'),
      hop(63, 1, 2, 'cd95d40c1598'),
      hop(63, 3, 2, 'e702a7ed9f68'),
      hop(63, 3, 2, '586bb2a31f99'),
      hop(63, 1, 2, '3f10e97b141e'),
      hop(63, 1, 0, 'ebc021970353'),
    ],
  };
}

export const PEERING_CAPTURES: { currInf: number; currHf: number; segIds: number[]; arrival: 'link' | 'local' }[] = [
  { currInf: 0, currHf: 1, segIds: [0xb1da, 0xd73c], arrival: 'link' },
  { currInf: 0, currHf: 1, segIds: [0x7c4f, 0xd73c], arrival: 'local' },
  { currInf: 0, currHf: 2, segIds: [0x7c4f, 0xd73c], arrival: 'link' },
  { currInf: 0, currHf: 2, segIds: [0x7c4f, 0xd73c], arrival: 'local' },
  { currInf: 1, currHf: 3, segIds: [0x7c4f, 0xd73c], arrival: 'link' },
  { currInf: 1, currHf: 3, segIds: [0x7c4f, 0xd73c], arrival: 'local' },
  { currInf: 1, currHf: 4, segIds: [0x7c4f, 0xd73c], arrival: 'link' },
  { currInf: 1, currHf: 4, segIds: [0x7c4f, 0xd73c], arrival: 'local' },
  { currInf: 1, currHf: 5, segIds: [0x7c4f, 0xe82c], arrival: 'link' },
  { currInf: 1, currHf: 5, segIds: [0x7c4f, 0xe82c], arrival: 'local' },
];

/** `path` in the state of one capture. */
export function atCapture(path: ScionPath, c: { currInf: number; currHf: number; segIds: number[] }): ScionPath {
  return {
    ...path,
    meta: { ...path.meta, currInf: c.currInf, currHf: c.currHf },
    infoFields: path.infoFields.map((f, i) => ({ ...f, segId: c.segIds[i] })),
  };
}

/** Wire bytes of a SCION path per scion-header.rst, to tie the literals above to the capture. */
export function encodePathHex(p: ScionPath): string {
  const meta = Buffer.alloc(4);
  meta.writeUInt32BE(((p.meta.currInf << 30) | (p.meta.currHf << 24) | (p.meta.segLens[0] << 12) | (p.meta.segLens[1] << 6) | p.meta.segLens[2]) >>> 0);
  const infos = p.infoFields.map((f) => {
    const b = Buffer.alloc(8);
    b[0] = (f.peer ? 2 : 0) | (f.consDir ? 1 : 0);
    b.writeUInt16BE(f.segId, 2);
    b.writeUInt32BE(f.timestamp, 4);
    return b;
  });
  const hops = p.hopFields.map((h) => {
    const b = Buffer.alloc(12);
    b[0] = (h.ingressAlert ? 2 : 0) | (h.egressAlert ? 1 : 0);
    b[1] = h.expTime;
    b.writeUInt16BE(h.consIngress, 2);
    b.writeUInt16BE(h.consEgress, 4);
    b.set(h.mac, 6);
    return b;
  });
  return Buffer.concat([meta, ...infos, ...hops]).toString('hex');
}
