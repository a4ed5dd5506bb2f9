// What a receiving node's datapath will need to verify SPAOs, as fixed-size BPF map records
// (native little-endian integers, like bpf/maps.ts). The XDP verifier is not built yet; this
// is the layout it is to read, kept beside the code that fills it:
//
//   key:   struct { __u64 src_ia; }                     /* sending AS, host order */
//   value: struct cil_spao_peer {
//            __u32 spi;                                /* the SPI packets must carry */
//            __u32 nslots;                             /* valid slots, oldest epoch first */
//            struct {
//              __u64 begin_ns;                         /* epoch start, Unix ns: AbsTime = begin_ns + Timestamp */
//              __u64 accept_until_ns;                  /* epoch end + grace period, Unix ns */
//              __u8  key[16];                          /* K_{A->B} */
//              __u8  cmac_k1[16], cmac_k2[16];         /* CMAC subkeys, so the datapath only runs AES */
//            } slot[3];
//          };                                          /* 200 bytes */
import { GRACE_PERIOD_SECONDS, NS } from '../drkey/epoch';
import type { Level1Store } from '../drkey/level1_store';
import type { IA } from '../isdas';
import { cmacSubkeys } from '../mac/cmac';
import { SpaoError } from './errors';
import type { EpochKey } from './key_select';
import { MESH_SPI, meshKey } from './mesh_keys';

export const PEER_SLOTS = 3;
const SLOT_LEN = 8 + 8 + 16 * 3;
export const PEER_KEY_LEN = 8;
export const PEER_VALUE_LEN = 8 + PEER_SLOTS * SLOT_LEN;

export interface PeerKeys {
  srcIA: IA;
  spi: number;
  /** Oldest epoch first, at most PEER_SLOTS. */
  keys: EpochKey[];
}

export interface PeerMapRecord {
  key: Buffer;
  value: Buffer;
}

/** A receiving node's per-peer keys for every issuer in `store`. */
export function receiverPeerKeys(store: Level1Store): PeerKeys[] {
  return store.issuers().map((srcIA) => ({
    srcIA,
    spi: MESH_SPI,
    keys: store.keysOf(srcIA).map(meshKey),
  }));
}

export function encodePeerRecord(p: PeerKeys): PeerMapRecord {
  if (p.keys.length > PEER_SLOTS) throw new SpaoError('BAD_CONFIG', `at most ${PEER_SLOTS} epochs per peer, got ${p.keys.length}`);
  const key = Buffer.alloc(PEER_KEY_LEN);
  key.writeBigUInt64LE(p.srcIA);
  const value = Buffer.alloc(PEER_VALUE_LEN);
  value.writeUInt32LE(p.spi >>> 0, 0);
  value.writeUInt32LE(p.keys.length, 4);
  p.keys.forEach((k, i) => {
    if (k.key.length !== 16) throw new SpaoError('BAD_CONFIG', 'keys must be 16 bytes');
    const at = 8 + i * SLOT_LEN;
    value.writeBigUInt64LE(BigInt(k.epoch.begin) * NS, at);
    value.writeBigUInt64LE(BigInt(k.epoch.end + GRACE_PERIOD_SECONDS) * NS, at + 8);
    const { k1, k2 } = cmacSubkeys(k.key);
    value.set(k.key, at + 16);
    value.set(k1, at + 32);
    value.set(k2, at + 48);
  });
  return { key, value };
}

/** The record read back (for status and tests); subkeys are recomputed, not read. */
export function decodePeerRecord(r: PeerMapRecord): PeerKeys {
  if (r.key.length !== PEER_KEY_LEN || r.value.length !== PEER_VALUE_LEN) {
    throw new SpaoError('BAD_CONFIG', `peer record must be ${PEER_KEY_LEN}+${PEER_VALUE_LEN} bytes`);
  }
  const n = r.value.readUInt32LE(4);
  if (n > PEER_SLOTS) throw new SpaoError('BAD_CONFIG', `peer record claims ${n} slots`);
  const keys: EpochKey[] = [];
  for (let i = 0; i < n; i++) {
    const at = 8 + i * SLOT_LEN;
    keys.push({
      epoch: {
        begin: Number(r.value.readBigUInt64LE(at) / NS),
        end: Number(r.value.readBigUInt64LE(at + 8) / NS) - GRACE_PERIOD_SECONDS,
      },
      key: new Uint8Array(r.value.subarray(at + 16, at + 32)),
    });
  }
  return { srcIA: r.key.readBigUInt64LE(0), spi: r.value.readUInt32LE(0), keys };
}
