// Reading a router's hop-field MAC method back from its /metrics (the cillion_hop_mac_info
// info metric RouterMetrics exposes), for `cillion status --router`.
import type { HopMacReport } from '../bpf/hop_cipher';
import { HOP_MAC_INFO } from './router';
import { fetchMetricsText, infoLabels, MetricsFetchError } from './scrape';

/** The method, driver and reason the exposition text names; undefined when it has no such metric. */
export function parseHopMacInfo(text: string): HopMacReport | undefined {
  const labels = infoLabels(text, HOP_MAC_INFO);
  const method = labels?.get('method');
  if (!labels || (method !== 'kfunc' && method !== 'table')) return undefined;
  const driver = labels.get('driver') || undefined;
  const reason = labels.get('reason') || undefined;
  return { method, ...(driver ? { driver } : {}), ...(reason ? { reason } : {}) };
}

/** The router's method; MetricsFetchError when it cannot be read. */
export async function fetchHopMac(address: string, timeoutMs: number): Promise<HopMacReport> {
  const info = parseHopMacInfo(await fetchMetricsText(address, timeoutMs));
  if (!info) throw new MetricsFetchError(`${address}: no ${HOP_MAC_INFO} (not a cillion router's metrics?)`);
  return info;
}

/** The line the router logs at start: which hop-field MAC runs, and why when it is the fallback. */
export function describeHopMac(h: HopMacReport): string {
  return h.method === 'kfunc'
    ? `hop MACs: kernel AES via BPF crypto kfuncs (${h.driver ?? 'unknown driver'})`
    : `hop MACs: table AES in BPF, the fallback (${h.reason ?? 'no reason given'})`;
}
