// The demo's relays: one per cluster, each with its own store, Observer address, metrics
// port and web UI port, federated with every other cluster's relay. Peering runs over loopback (the
// underlay), not the demo's SCION WAN: the relays run in the root namespace, which has no
// SCION edge of its own. Pure: the demo and its tests read the same plan.
import { join } from 'node:path';

/** The relays' Prometheus /metrics on loopback, cluster i on this port + i. */
export const RELAY_METRICS_BASE = 9965;
/** The relays' web UI on loopback, cluster i on this port + i: the first on the relay's default (12000). */
export const RELAY_UI_BASE = 12000;

export interface DemoRelay {
  cluster: string;
  /** `--name`: how peers, ServerStatus and attestations name it; its peer certificate's name. */
  name: string;
  /** Observer, export and peering address (host:port). */
  listen: string;
  metrics: string;
  /** Its web UI (host:port, `--ui-listen`): HTTPS with the relay's server certificate, a client certificate required. */
  ui: string;
  /** Its own embedded store. */
  dataDir: string;
  /** `--peer name=host:port` for every other cluster's relay. */
  peers: Array<{ name: string; address: string }>;
}

export class DemoRelayError extends Error {
  override readonly name = 'DemoRelayError';
}

export const relayName = (cluster: string): string => `${cluster}-relay`;

/** `first` is the first cluster's Observer address; cluster i listens on its port + i. */
export function planRelays(clusters: readonly string[], first: string, runDir: string): DemoRelay[] {
  const m = /^(.+):(\d+)$/.exec(first);
  const port = Number(m?.[2]);
  if (!m || !Number.isInteger(port) || port < 1 || port + clusters.length - 1 > 65535) {
    throw new DemoRelayError(`relay address ${first}: expected host:port with room for ${clusters.length} consecutive ports`);
  }
  const host = m[1];
  const relays = clusters.map((cluster, i) => ({
    cluster,
    name: relayName(cluster),
    listen: `${host}:${port + i}`,
    metrics: `127.0.0.1:${RELAY_METRICS_BASE + i}`,
    ui: `127.0.0.1:${RELAY_UI_BASE + i}`,
    dataDir: join(runDir, 'store', cluster),
    peers: [] as DemoRelay['peers'],
  }));
  for (const r of relays) r.peers = relays.filter((o) => o !== r).map((o) => ({ name: o.name, address: o.listen }));
  return relays;
}

/** The relay of the cluster a node belongs to: its agent exports there and nowhere else. */
export function relayOf(relays: readonly DemoRelay[], cluster: string): DemoRelay {
  const r = relays.find((x) => x.cluster === cluster);
  if (!r) throw new DemoRelayError(`no relay for cluster ${cluster}`);
  return r;
}

/** The address a browser opens for a relay's UI: its TLS certificate names 127.0.0.1 too. */
export const uiUrl = (r: DemoRelay): string => `https://${r.ui}/`;
