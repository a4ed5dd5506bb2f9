// The receiver's side: judges one encoded packet and never throws. Every way a packet can
// fail has its own drop reason, in the order a datapath can check them cheaply: structure,
// option, SPI, algorithm, key, time, MAC, and last the replay window (only a packet whose
// MAC verified may change the window).
import { hostAddrBytes } from '../header/address';
import type { IA } from '../isdas';
import { decodePacket, type HostAddr, type ScionPacket, type SpaoOption } from '../packet';
import { ALGORITHM_AES_CMAC, CMAC_TAG_LEN, computeSpaoCmac, tagsEqual } from './authenticator';
import { checkAcceptanceWindow, DEFAULT_ACCEPTANCE_WINDOW_NS, type EpochKey, selectEpochKey } from './key_select';
import { locateSpao } from './locate';
import { authenticatedHeaderOf } from './mac_input';
import type { ReplayWindow } from './replay_window';
import { type DrkeySpi, parseDrkeySpi } from './spi';

export const SPAO_DROP_REASONS = [
  'MALFORMED', // the packet does not decode, or its SPAO is cut short
  'MISSING', // no SPAO in the end-to-end options
  'BAD_SPI', // not a DRKey SPI, or not the one this receiver accepts
  'UNSUPPORTED_ALGORITHM', // an algorithm other than AES-CMAC
  'NO_KEY', // no key held for the sending AS
  'STALE', // no held epoch puts the timestamp inside the acceptance window
  'BAD_MAC', // the authenticator does not verify
  'REPLAYED', // a verified packet seen before, or too old for the sender's replay window
] as const;
export type SpaoDropReason = (typeof SPAO_DROP_REASONS)[number];

export type SpaoVerdict =
  | { ok: true; packet: ScionPacket; spi: DrkeySpi; key: EpochKey; absTimeNs: bigint }
  | { ok: false; reason: SpaoDropReason; detail: string };

export interface KeyQuery {
  srcIA: IA;
  dstIA: IA;
  src: HostAddr;
  dst: HostAddr;
  spi: DrkeySpi;
}

export interface SpaoVerifierOptions {
  /** The keys (one per held epoch) that may have authenticated a packet like `q`. */
  keys: (q: KeyQuery) => readonly EpochKey[];
  replay: ReplayWindow;
  /** The only SPI accepted; a mesh agrees on one protocol, type and direction. */
  spi: number;
  acceptanceWindowNs?: bigint;
  nowNs?: () => bigint;
}

export class SpaoVerifier {
  private readonly widthNs: bigint;
  private readonly now: () => bigint;
  private readonly counts = new Map<SpaoDropReason | 'ACCEPTED', number>();

  constructor(private readonly opts: SpaoVerifierOptions) {
    this.widthNs = checkAcceptanceWindow(opts.acceptanceWindowNs ?? DEFAULT_ACCEPTANCE_WINDOW_NS);
    this.now = opts.nowNs ?? (() => BigInt(Date.now()) * 1_000_000n);
  }

  verify(bytes: Uint8Array): SpaoVerdict {
    const v = this.judge(bytes);
    const label = v.ok ? 'ACCEPTED' : v.reason;
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
    return v;
  }

  /** Packets judged so far by outcome (every drop reason listed, zero when not seen). */
  stats(): Record<SpaoDropReason | 'ACCEPTED', number> {
    const out = { ACCEPTED: this.counts.get('ACCEPTED') ?? 0 } as Record<SpaoDropReason | 'ACCEPTED', number>;
    for (const r of SPAO_DROP_REASONS) out[r] = this.counts.get(r) ?? 0;
    return out;
  }

  private judge(bytes: Uint8Array): SpaoVerdict {
    let packet: ScionPacket;
    try {
      packet = decodePacket(bytes, { share: true });
    } catch (e) {
      return drop('MALFORMED', e instanceof Error ? e.message : String(e));
    }
    const loc = locateSpao(bytes);
    const opt = packet.extensions.find((x) => x.kind === 'E2E')?.options.find((o): o is SpaoOption => o.kind === 'SPAO');
    if (loc === undefined || opt === undefined) return drop('MISSING', 'no SPAO in the end-to-end options');
    const spi = parseDrkeySpi(opt.spi);
    if (spi === undefined || opt.spi !== this.opts.spi) {
      return drop('BAD_SPI', `SPI 0x${opt.spi.toString(16)} is not the accepted DRKey SPI 0x${this.opts.spi.toString(16)}`);
    }
    if (opt.algorithm !== ALGORITHM_AES_CMAC) return drop('UNSUPPORTED_ALGORITHM', `algorithm ${opt.algorithm}`);
    if (opt.authenticator.length !== CMAC_TAG_LEN) {
      return drop('MALFORMED', `AES-CMAC authenticator of ${opt.authenticator.length} bytes, want ${CMAC_TAG_LEN}`);
    }
    const keys = this.opts.keys({ srcIA: packet.srcIA, dstIA: packet.dstIA, src: packet.src, dst: packet.dst, spi });
    if (keys.length === 0) return drop('NO_KEY', 'no key for the sending AS');
    const now = this.now();
    const selected = selectEpochKey(keys, opt.timestampSeq, now, this.widthNs);
    if (selected === undefined) return drop('STALE', `timestamp ${opt.timestampSeq} lies outside the acceptance window in every held epoch`);
    let tag: Uint8Array;
    try {
      tag = computeSpaoCmac(selected.key.key, authenticatedHeaderOf(packet), opt, loc.upperLayer, bytes.subarray(loc.upperLayerAt));
    } catch (e) {
      // A decoded packet always makes a MAC input; this is a held key of the wrong size.
      return drop('NO_KEY', e instanceof Error ? e.message : String(e));
    }
    if (!tagsEqual(tag, opt.authenticator)) return drop('BAD_MAC', 'authenticator does not verify');
    const sender = `${packet.srcIA.toString(16)}/${Buffer.from(hostAddrBytes(packet.src)).toString('hex')}`;
    const replay = this.opts.replay.check(sender, selected.absTimeNs);
    if (replay !== 'fresh') return drop('REPLAYED', replay === 'replayed' ? 'timestamp seen before' : 'older than the sender\'s replay window');
    return { ok: true, packet, spi, key: selected.key, absTimeNs: selected.absTimeNs };
  }
}

function drop(reason: SpaoDropReason, detail: string): SpaoVerdict {
  return { ok: false, reason, detail };
}
