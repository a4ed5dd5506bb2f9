// Reading an agent's SPAO state back from its /metrics (cillion_spao_info and the key sync's
// cillion_mesh_peers_without_rx_key), for `cillion status --agent`.
import { fetchMetricsText, infoLabels, MetricsFetchError, plainValue } from './scrape';

export const SPAO_INFO = 'cillion_spao_info';
export const PEERS_WITHOUT_RX_KEY = 'cillion_mesh_peers_without_rx_key';

export interface AgentSpao {
  state: 'on' | 'off';
  driver?: string;
  reason?: string;
  /** Peers whose packets this edge cannot verify now; absent without key sync. */
  peersWithoutRxKey?: number;
}

export function parseSpaoInfo(text: string): AgentSpao | undefined {
  const labels = infoLabels(text, SPAO_INFO);
  const state = labels?.get('state');
  if (!labels || (state !== 'on' && state !== 'off')) return undefined;
  const driver = labels.get('driver') || undefined;
  const reason = labels.get('reason') || undefined;
  const missing = plainValue(text, PEERS_WITHOUT_RX_KEY);
  return { state, ...(driver ? { driver } : {}), ...(reason ? { reason } : {}), ...(missing === undefined ? {} : { peersWithoutRxKey: missing }) };
}

export async function fetchSpao(address: string, timeoutMs: number): Promise<AgentSpao> {
  const info = parseSpaoInfo(await fetchMetricsText(address, timeoutMs));
  if (!info) throw new MetricsFetchError(`${address}: no ${SPAO_INFO} (not a cillion agent's metrics?)`);
  return info;
}

export function describeSpao(s: AgentSpao): string {
  if (s.state === 'off') return `SPAO off: ${s.reason ?? 'unknown reason'}; identities from other clusters are not authenticated`;
  const keys =
    s.peersWithoutRxKey === undefined ? 'no key sync (no master secret in the mesh file)' : s.peersWithoutRxKey === 0 ? "every peer's current key held" : `${s.peersWithoutRxKey} peer(s) without a current key: their packets are dropped`;
  return `SPAO on (${s.driver ?? 'kernel cbc(aes)'}), ${keys}`;
}
