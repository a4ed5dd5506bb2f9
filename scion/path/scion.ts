// Path type SCION (scion-header.rst, "Path Type: SCION"): a 4-byte PathMetaHdr, one 8-byte
// info field per segment and the 12-byte hop fields of all segments back to back.
import { checkBool, checkBytes, checkObject, checkUint, Reader, Writer } from '../bytes';
import { ScionError } from '../errors';
import type { HopField, InfoField, PathMeta, ScionPath } from './model';

export const META_LEN = 4;
export const INFO_LEN = 8;
export const HOP_LEN = 12;
export const MAC_LEN = 6;
/** CurrHF has 6 bits, so a longer path could not be followed to its end. */
export const MAX_HOPS = 64;

const FLAG_PEER = 0x02;
const FLAG_CONS_DIR = 0x01;
const FLAG_INGRESS_ALERT = 0x02;
const FLAG_EGRESS_ALERT = 0x01;

export function decodeInfoField(r: Reader, at: number): InfoField {
  const flags = r.u8(at);
  return {
    consDir: (flags & FLAG_CONS_DIR) !== 0,
    peer: (flags & FLAG_PEER) !== 0,
    segId: r.u16(at + 2),
    timestamp: r.u32(at + 4),
  };
}

export function writeInfoField(w: Writer, f: InfoField): void {
  w.u8((f.peer ? FLAG_PEER : 0) | (f.consDir ? FLAG_CONS_DIR : 0));
  w.u8(0);
  w.u16(f.segId);
  w.u32(f.timestamp);
}

export function checkInfoField(f: InfoField, what: string): void {
  checkObject(f, what);
  checkBool(f.consDir, `${what}.consDir`);
  checkBool(f.peer, `${what}.peer`);
  checkUint(f.segId, 0xffff, `${what}.segId`);
  checkUint(f.timestamp, 0xffff_ffff, `${what}.timestamp`);
}

export function decodeHopField(r: Reader, at: number): HopField {
  const flags = r.u8(at);
  return {
    ingressAlert: (flags & FLAG_INGRESS_ALERT) !== 0,
    egressAlert: (flags & FLAG_EGRESS_ALERT) !== 0,
    expTime: r.u8(at + 1),
    consIngress: r.u16(at + 2),
    consEgress: r.u16(at + 4),
    mac: r.copy(at + 6, MAC_LEN),
  };
}

export function writeHopField(w: Writer, h: HopField): void {
  w.u8((h.ingressAlert ? FLAG_INGRESS_ALERT : 0) | (h.egressAlert ? FLAG_EGRESS_ALERT : 0));
  w.u8(h.expTime);
  w.u16(h.consIngress);
  w.u16(h.consEgress);
  w.put(h.mac);
}

export function checkHopField(h: HopField, what: string): void {
  checkObject(h, what);
  checkBool(h.ingressAlert, `${what}.ingressAlert`);
  checkBool(h.egressAlert, `${what}.egressAlert`);
  checkUint(h.expTime, 0xff, `${what}.expTime`);
  checkUint(h.consIngress, 0xffff, `${what}.consIngress`);
  checkUint(h.consEgress, 0xffff, `${what}.consEgress`);
  checkBytes(h.mac, `${what}.mac`, MAC_LEN);
}

/** Number of info fields the SegLens imply. */
export function numInfoFields(segLens: readonly number[]): number {
  return segLens[2]! > 0 ? 3 : segLens[1]! > 0 ? 2 : segLens[0]! > 0 ? 1 : 0;
}

/** Index of the segment that hop field `hf` belongs to. */
export function segmentOfHop(segLens: readonly number[], hf: number): number {
  if (hf < segLens[0]!) return 0;
  if (hf < segLens[0]! + segLens[1]!) return 1;
  return 2;
}

/**
 * Why a meta header is inconsistent, or null. A later segment without an earlier one, more
 * than 64 hops, or current indices outside the path or disagreeing with each other: routers
 * always move CurrINF together with CurrHF, so a packet on the wire never has them apart.
 */
function metaProblem(meta: PathMeta): string | null {
  const [s0, s1, s2] = meta.segLens;
  if ((s1 > 0 && s0 === 0) || (s2 > 0 && s1 === 0)) return `segment lengths ${s0},${s1},${s2} skip a segment`;
  const hops = s0 + s1 + s2;
  if (hops > MAX_HOPS) return `${hops} hop fields exceed the maximum of ${MAX_HOPS}`;
  if (hops === 0) {
    return meta.currInf === 0 && meta.currHf === 0 ? null : 'current indices set on a path without segments';
  }
  if (meta.currHf >= hops) return `CurrHF ${meta.currHf} is beyond the ${hops} hop fields`;
  const seg = segmentOfHop(meta.segLens, meta.currHf);
  if (meta.currInf !== seg) return `CurrINF ${meta.currInf} but CurrHF ${meta.currHf} lies in segment ${seg}`;
  return null;
}

/** Why a path's info and hop fields disagree with its meta header, or null. */
export function pathShapeProblem(p: ScionPath): string | null {
  const problem = metaProblem(p.meta);
  if (problem !== null) return problem;
  const nInf = numInfoFields(p.meta.segLens);
  const nHop = p.meta.segLens[0] + p.meta.segLens[1] + p.meta.segLens[2];
  if (p.infoFields.length !== nInf) return `SegLens imply ${nInf} info fields, path has ${p.infoFields.length}`;
  if (p.hopFields.length !== nHop) return `SegLens imply ${nHop} hop fields, path has ${p.hopFields.length}`;
  return null;
}

/** Bytes the path occupies according to its meta header. */
function lengthOf(segLens: readonly number[]): number {
  return META_LEN + numInfoFields(segLens) * INFO_LEN + (segLens[0]! + segLens[1]! + segLens[2]!) * HOP_LEN;
}

/** Decodes a SCION path that HdrLen says occupies exactly `length` bytes at `at`. */
export function decodeScionPath(r: Reader, at: number, length: number): ScionPath {
  if (length < META_LEN) {
    throw new ScionError('BAD_HDR_LEN', `HdrLen leaves ${length} bytes for a SCION path, the meta header alone needs ${META_LEN}`, at);
  }
  const line = r.u32(at);
  const meta: PathMeta = {
    currInf: line >>> 30,
    currHf: (line >>> 24) & 0x3f,
    segLens: [(line >>> 12) & 0x3f, (line >>> 6) & 0x3f, line & 0x3f],
  };
  const problem = metaProblem(meta);
  if (problem !== null) throw new ScionError('BAD_PATH', problem, at);
  const want = lengthOf(meta.segLens);
  if (want !== length) {
    throw new ScionError('BAD_HDR_LEN', `SegLens describe a ${want}-byte path but HdrLen leaves ${length} bytes`, at);
  }
  const nInf = numInfoFields(meta.segLens);
  const nHop = meta.segLens[0] + meta.segLens[1] + meta.segLens[2];
  const infoFields = new Array<InfoField>(nInf);
  for (let i = 0; i < nInf; i++) infoFields[i] = decodeInfoField(r, at + META_LEN + i * INFO_LEN);
  const hopBase = at + META_LEN + nInf * INFO_LEN;
  const hopFields = new Array<HopField>(nHop);
  for (let i = 0; i < nHop; i++) hopFields[i] = decodeHopField(r, hopBase + i * HOP_LEN);
  return { type: 'SCION', meta, infoFields, hopFields };
}

/** Validates a path for encoding and returns its length in bytes. */
export function checkScionPath(p: ScionPath, what = 'path'): number {
  const meta = p.meta;
  if (typeof meta !== 'object' || meta === null || !Array.isArray(meta.segLens) || meta.segLens.length !== 3) {
    throw new ScionError('BAD_ARGUMENT', `${what}.meta must have currInf, currHf and three segLens`);
  }
  checkUint(meta.currInf, 3, `${what}.meta.currInf`);
  checkUint(meta.currHf, 0x3f, `${what}.meta.currHf`);
  meta.segLens.forEach((n, i) => checkUint(n, 0x3f, `${what}.meta.segLens[${i}]`));
  if (!Array.isArray(p.infoFields) || !Array.isArray(p.hopFields)) {
    throw new ScionError('BAD_ARGUMENT', `${what}: infoFields and hopFields must be arrays`);
  }
  const problem = pathShapeProblem(p);
  if (problem !== null) throw new ScionError('BAD_ARGUMENT', `${what}: ${problem}`);
  p.infoFields.forEach((f, i) => checkInfoField(f, `${what}.infoFields[${i}]`));
  p.hopFields.forEach((h, i) => checkHopField(h, `${what}.hopFields[${i}]`));
  return lengthOf(meta.segLens);
}

export function writeScionPath(w: Writer, p: ScionPath): void {
  const { currInf, currHf, segLens } = p.meta;
  w.u32(((currInf << 30) | (currHf << 24) | (segLens[0] << 12) | (segLens[1] << 6) | segLens[2]) >>> 0);
  for (const f of p.infoFields) writeInfoField(w, f);
  for (const h of p.hopFields) writeHopField(w, h);
}
