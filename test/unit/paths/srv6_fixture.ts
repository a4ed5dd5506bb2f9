// The demo's SID catalogue (examples/srv6.yaml) and SRv6 paths over it as a collector
// sends them: the Segment Routing Header as the datapath recorded it, the outer source,
// and nothing else the relay would trust.
import { join } from 'node:path';
import { Srv6Path } from '../../../proto/gen/flow/flow';
import { loadSidCatalogue } from '../../../srv6/catalogue';
import { srhHmac } from '../../../srv6/hmac';
import { parseSid } from '../../../srv6/sid';
import { encodeSrh, srhOrder, type Srh } from '../../../srv6/srh';

export const EXAMPLE_SRV6 = join(__dirname, '../../../examples/srv6.yaml');
export const SIDS = loadSidCatalogue(EXAMPLE_SRV6);

/** zrh-node-1's encapsulation source. */
export const ZRH_SOURCE = 'fc00:0:101::1';
/** Zurich straight to Frankfurt, into VRF 100 on fra-node-1: the voip list. */
export const VOIP = ['fc00:0:1::1', 'fc00:0:4::1', 'fc00:0:201::100'];
/** Zurich, Milan, Vienna, Frankfurt, into VRF 200: the backup list, through Austria (and Italy). */
export const BACKUP = ['fc00:0:1::1', 'fc00:0:2::1', 'fc00:0:3::1', 'fc00:0:4::1', 'fc00:0:201::200'];

export interface SrhOptions {
  source?: string;
  /** Add an HMAC TLV computed with this key (default: none). */
  hmac?: { keyId: number; key: Uint8Array };
  segmentsLeft?: number;
}

/** The SRH of a segment list given in travel order, as H.Encaps writes it. */
export function srhOf(travel: readonly string[], o: SrhOptions = {}): Buffer {
  const segments = srhOrder(travel.map(parseSid));
  const srh: Srh = { nextHeader: 4, segmentsLeft: o.segmentsLeft ?? segments.length - 1, lastEntry: segments.length - 1, flags: 0, tag: 0, segments, tlvs: [] };
  if (o.hmac) {
    const mac = srhHmac(o.hmac.key, { source: parseSid(o.source ?? ZRH_SOURCE), lastEntry: srh.lastEntry, flags: 0, keyId: o.hmac.keyId, segments });
    srh.hmac = { keyId: o.hmac.keyId, dBit: false, mac };
  }
  return Buffer.from(encodeSrh(srh));
}

/** What a collector sends for an SRv6 path: its evidence, plus whatever else it claims. */
export function sentSrv6(raw: Uint8Array, claims: Partial<Srv6Path> = {}): Srv6Path {
  return Srv6Path.fromPartial({ raw: Buffer.from(raw), source: ZRH_SOURCE, pathId: 7, ...claims });
}

/** The demo's HMAC key 1. */
export const KEY_1 = { keyId: 1, key: SIDS.hmacKeys.get(1) as Uint8Array };
