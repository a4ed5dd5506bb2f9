// Reads pcap and pcapng captures and pulls out UDP payloads, which is where SCION travels
// over an IP underlay. Only what a SCION debugging session needs: no reassembly, no TCP.

export class CaptureError extends Error {
  readonly code = 'BAD_CAPTURE';
  constructor(message: string) {
    super(message);
    this.name = 'CaptureError';
  }
}

export interface Frame {
  /** 1-based frame number, as Wireshark counts. */
  number: number;
  linkType: number;
  data: Uint8Array;
}

export interface UdpPayload {
  frame: number;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

const PCAP_MAGICS = new Set([0xa1b2c3d4, 0xa1b23c4d]);
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

export function isCapture(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dv.getUint32(0, true);
  const be = dv.getUint32(0, false);
  return PCAP_MAGICS.has(le) || PCAP_MAGICS.has(be) || be === PCAPNG_SHB;
}

export function readFrames(bytes: Uint8Array): Frame[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 4 && dv.getUint32(0, false) === PCAPNG_SHB) return readPcapng(bytes, dv);
  return readPcap(bytes, dv);
}

function readPcap(bytes: Uint8Array, dv: DataView): Frame[] {
  if (bytes.length < 24) throw new CaptureError(`pcap global header needs 24 bytes, file has ${bytes.length}`);
  const le = PCAP_MAGICS.has(dv.getUint32(0, true));
  if (!le && !PCAP_MAGICS.has(dv.getUint32(0, false))) throw new CaptureError('not a pcap file (bad magic)');
  const linkType = dv.getUint32(20, le) & 0x0fffffff;
  const frames: Frame[] = [];
  let off = 24;
  while (off < bytes.length) {
    if (off + 16 > bytes.length) throw new CaptureError(`pcap record ${frames.length + 1} header truncated at byte ${off}`);
    const caplen = dv.getUint32(off + 8, le);
    if (off + 16 + caplen > bytes.length) {
      throw new CaptureError(`pcap record ${frames.length + 1} claims ${caplen} bytes, only ${bytes.length - off - 16} left`);
    }
    frames.push({ number: frames.length + 1, linkType, data: bytes.subarray(off + 16, off + 16 + caplen) });
    off += 16 + caplen;
  }
  return frames;
}

function readPcapng(bytes: Uint8Array, dv: DataView): Frame[] {
  const frames: Frame[] = [];
  let le = true;
  let ifaces: number[] = [];
  let off = 0;
  while (off < bytes.length) {
    if (off + 12 > bytes.length) throw new CaptureError(`pcapng block header truncated at byte ${off}`);
    const type = dv.getUint32(off, le);
    if (dv.getUint32(off, false) === PCAPNG_SHB) {
      // A section header fixes the byte order of everything up to the next one.
      const bom = dv.getUint32(off + 8, true);
      if (bom === PCAPNG_BOM) le = true;
      else if (dv.getUint32(off + 8, false) === PCAPNG_BOM) le = false;
      else throw new CaptureError(`pcapng section header at byte ${off} has a bad byte-order magic`);
      ifaces = [];
    }
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0 || off + len > bytes.length) {
      throw new CaptureError(`pcapng block at byte ${off} has an impossible length ${len}`);
    }
    const body = off + 8;
    if (type === 1) {
      ifaces.push(dv.getUint16(body, le));
    } else if (type === 6 || type === 3) {
      const iface = type === 6 ? dv.getUint32(body, le) : 0;
      const linkType = ifaces[iface];
      if (linkType === undefined) throw new CaptureError(`pcapng packet at byte ${off} names undeclared interface ${iface}`);
      const dataOff = type === 6 ? body + 20 : body + 4;
      const caplen = type === 6 ? dv.getUint32(body + 12, le) : Math.min(dv.getUint32(body, le), len - 16);
      if (dataOff + caplen > off + len - 4) throw new CaptureError(`pcapng packet at byte ${off} overruns its block`);
      frames.push({ number: frames.length + 1, linkType, data: bytes.subarray(dataOff, dataOff + caplen) });
    }
    off += len;
  }
  return frames;
}

/** The UDP payload a frame carries, or null for anything else (non-IP, fragments, TCP...). */
export function udpPayload(frame: Frame): UdpPayload | null {
  const d = frame.data;
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const ip = networkLayer(frame.linkType, d, dv);
  if (ip === null) return null;
  const l4 = transportOffset(d, dv, ip);
  if (l4 === null || l4 + 8 > d.length) return null;
  const udpLen = dv.getUint16(l4 + 4);
  if (udpLen < 8 || l4 + udpLen > d.length) return null;
  return {
    frame: frame.number,
    srcPort: dv.getUint16(l4),
    dstPort: dv.getUint16(l4 + 2),
    payload: d.subarray(l4 + 8, l4 + udpLen),
  };
}

/** Offset of the IP header for the link types a SCION underlay shows up on. */
function networkLayer(linkType: number, d: Uint8Array, dv: DataView): number | null {
  switch (linkType) {
    case 1: {
      // Ethernet, skipping any 802.1Q tags.
      let off = 12;
      while (off + 2 <= d.length && (dv.getUint16(off) === 0x8100 || dv.getUint16(off) === 0x88a8)) off += 4;
      if (off + 2 > d.length) return null;
      const et = dv.getUint16(off);
      return et === 0x0800 || et === 0x86dd ? off + 2 : null;
    }
    case 12:
    case 101:
    case 228:
    case 229:
      return 0;
    case 113:
      return d.length >= 16 ? 16 : null;
    case 276:
      return d.length >= 20 ? 20 : null;
    case 0:
    case 108:
      return d.length >= 4 ? 4 : null;
    default:
      return null;
  }
}

const IPV6_EXT_HEADERS = new Set([0, 43, 60]);

function transportOffset(d: Uint8Array, dv: DataView, off: number): number | null {
  if (off >= d.length) return null;
  const version = d[off] >> 4;
  if (version === 4) {
    if (off + 20 > d.length) return null;
    const ihl = (d[off] & 0x0f) * 4;
    const fragment = dv.getUint16(off + 6) & 0x3fff;
    if (d[off + 9] !== 17 || fragment !== 0 || ihl < 20) return null;
    return off + ihl;
  }
  if (version === 6) {
    if (off + 40 > d.length) return null;
    let next = d[off + 6];
    let at = off + 40;
    while (IPV6_EXT_HEADERS.has(next)) {
      if (at + 2 > d.length) return null;
      next = d[at];
      at += (d[at + 1] + 1) * 8;
    }
    return next === 17 ? at : null;
  }
  return null;
}
