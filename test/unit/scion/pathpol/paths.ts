// Test paths written as snet metadata lists them: "IA#ifid" per interface, in path order.
import { parseIA } from '../../../../scion/isdas';
import type { PolicyPath } from '../../../../scion/pathpol';

export function path(...ifaces: string[]): PolicyPath & { name: string } {
  const interfaces = ifaces.map((s) => {
    const [ia, ifid] = s.split('#');
    return { ia: parseIA(ia), ifid: Number(ifid) };
  });
  return { name: ifaces.join(' '), src: interfaces[0].ia, dst: interfaces[interfaces.length - 1].ia, interfaces };
}

/** 133 → 120 → 110 */
export const P1 = path('1-ff00:0:133#1', '1-ff00:0:120#2', '1-ff00:0:120#3', '1-ff00:0:110#4');
/** 133 → 121 → 120 → 110 */
export const P2 = path('1-ff00:0:133#5', '1-ff00:0:121#6', '1-ff00:0:121#7', '1-ff00:0:120#8', '1-ff00:0:120#3', '1-ff00:0:110#4');
/** 133 → 120 → 2-210 → 2-211, leaving ISD 1 */
export const P3 = path('1-ff00:0:133#1', '1-ff00:0:120#2', '1-ff00:0:120#9', '2-ff00:0:210#1', '2-ff00:0:210#2', '2-ff00:0:211#3');
/** 64512 (a BGP-style AS number) → 110 */
export const P4 = path('1-64512#7', '1-ff00:0:110#5');
/** A path inside one AS: no interfaces. */
export const EMPTY = { name: 'empty', src: parseIA('1-ff00:0:133'), dst: parseIA('1-ff00:0:133'), interfaces: [] };

export const ALL = [P1, P2, P3, P4, EMPTY];

export const names = (ps: readonly { name: string }[]): string[] => ps.map((p) => p.name);
