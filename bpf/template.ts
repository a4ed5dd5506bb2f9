// What the operator writes into the paths map: a SCION header template per path, with the
// local AS's own hop field already processed (the node is its AS's border router for the
// uplink), and the path key the receiving edge's allow list matches on.
import { ScionError } from '../scion/errors';
import type { IA } from '../scion/isdas';
import { nextSegId } from '../scion/mac/segid';
import type { ScionPath } from '../scion/path/model';
import { encodeScionPathBytes } from '../scion/path/raw';
import { pathShapeProblem, segmentOfHop } from '../scion/path/scion';
import { PROTO_CILLION_SHIM } from '../scion/shim';
import { HDR_MAX } from './abi';

const PATH_TYPE_SCION = 1;

function copyPath(p: ScionPath): ScionPath {
  return {
    type: 'SCION',
    meta: { currInf: p.meta.currInf, currHf: p.meta.currHf, segLens: [...p.meta.segLens] as [number, number, number] },
    infoFields: p.infoFields.map((f) => ({ ...f })),
    hopFields: p.hopFields.map((h) => ({ ...h, mac: Uint8Array.from(h.mac) })),
  };
}

function isPeering(p: ScionPath, hf: number): boolean {
  const s = segmentOfHop(p.meta.segLens, hf);
  return p.infoFields[s].peer && (hf === p.meta.segLens[0] - 1 || hf === p.meta.segLens[0]);
}

/**
 * The path as the source AS's border router sends it on: its hop field (and, at a
 * segment change inside the AS, the next one) processed as SCION's router does, SegID
 * chained in construction direction, CurrHF/CurrINF advanced. Returns the interface the
 * packet leaves by.
 */
export function processSourceHop(path: ScionPath): { path: ScionPath; egressIfid: number } {
  const problem = pathShapeProblem(path);
  if (problem !== null) throw new ScionError('BAD_PATH', problem);
  const p = copyPath(path);
  const n = p.hopFields.length;
  const segOf = (hf: number): number => segmentOfHop(p.meta.segLens, hf);
  let hf = p.meta.currHf;
  if (!isPeering(p, hf) && hf + 1 < n && segOf(hf + 1) !== segOf(hf)) hf++;
  const info = p.infoFields[segOf(hf)];
  const hop = p.hopFields[hf];
  const egressIfid = info.consDir ? hop.consEgress : hop.consIngress;
  if (egressIfid === 0 || hf + 1 >= n) throw new ScionError('BAD_PATH', 'the path ends in the source AS');
  if (info.consDir && !isPeering(p, hf)) info.segId = nextSegId(info.segId, hop.mac);
  p.meta.currHf = hf + 1;
  p.meta.currInf = segOf(hf + 1);
  return { path: p, egressIfid };
}

/**
 * Common + address + path header for packets from `src` to `dst` over `path` (already
 * processed by processSourceHop): IPv4 host addresses left zero for the datapath to fill
 * in, NextHdr the Cillion shim (the datapath writes the end-to-end extension's 201 when it
 * adds a SPAO), PayloadLen zero.
 */
export function headerTemplate(src: IA, dst: IA, path: ScionPath): Uint8Array {
  const pathBytes = encodeScionPathBytes(path);
  const len = 12 + 16 + 8 + pathBytes.length;
  if (len > HDR_MAX) throw new ScionError('BAD_PATH', `a ${len}-byte SCION header exceeds the datapath's ${HDR_MAX}`);
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  b[4] = PROTO_CILLION_SHIM;
  b[5] = len / 4;
  b[8] = PATH_TYPE_SCION;
  v.setBigUint64(12, dst);
  v.setBigUint64(20, src);
  b.set(pathBytes, 36);
  return b;
}

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = (1n << 64n) - 1n;

/**
 * The key the receiving edge's allow list uses for a path (cil_path_key in
 * bpf/include/lib/ingress.h): FNV-1a 64 over the three segment lengths, then each hop field's
 * ConsIngress and ConsEgress as big-endian 16-bit numbers, in path order.
 */
export function ingressPathKey(path: ScionPath): bigint {
  let h = FNV64_OFFSET;
  const add = (byte: number): void => {
    h = ((h ^ BigInt(byte & 0xff)) * FNV64_PRIME) & MASK64;
  };
  for (const l of path.meta.segLens) add(l);
  for (const hop of path.hopFields) {
    add(hop.consIngress >> 8);
    add(hop.consIngress);
    add(hop.consEgress >> 8);
    add(hop.consEgress);
  }
  return h;
}
