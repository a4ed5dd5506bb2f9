// Reading a router's hop-field MAC method back from its /metrics (the cillion_hop_mac_info
// info metric RouterMetrics exposes), for `cillion status --router`.
import type { HopMacReport } from '../bpf/hop_cipher';
import { HOP_MAC_INFO } from './router';

const LABEL = /([a-z_]+)="((?:[^"\\]|\\.)*)"/g;
const unescape = (v: string): string => v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

/** The method, driver and reason the exposition text names; undefined when it has no such metric. */
export function parseHopMacInfo(text: string): HopMacReport | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${HOP_MAC_INFO}{`));
  if (!line) return undefined;
  const labels = new Map([...line.slice(HOP_MAC_INFO.length, line.lastIndexOf('}') + 1).matchAll(LABEL)].map((m) => [m[1], unescape(m[2])]));
  const method = labels.get('method');
  if (method !== 'kfunc' && method !== 'table') return undefined;
  const driver = labels.get('driver') || undefined;
  const reason = labels.get('reason') || undefined;
  return { method, ...(driver ? { driver } : {}), ...(reason ? { reason } : {}) };
}

export class HopMacFetchError extends Error {
  override readonly name = 'HopMacFetchError';
}

/** GET http://<address>/metrics and read the method; a bounded wait, and a clear error otherwise. */
export async function fetchHopMac(address: string, timeoutMs: number): Promise<HopMacReport> {
  let res: Response;
  try {
    res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new HopMacFetchError(`${address}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new HopMacFetchError(`${address}: HTTP ${res.status}`);
  const info = parseHopMacInfo(await res.text());
  if (!info) throw new HopMacFetchError(`${address}: no ${HOP_MAC_INFO} (not a cillion router's metrics?)`);
  return info;
}
