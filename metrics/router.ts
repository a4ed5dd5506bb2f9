// `cillion router`'s Prometheus metrics, on a registry of its own: which hop-field MAC the
// loaded program runs, and the datapath counters per counter slot (forwards, drop reasons).
// Figures are read at scrape time from where they are kept.
import { Gauge, Registry } from 'prom-client';
import { datapathCounters, type DatapathTotals } from './counters';
import type { HopMacReport } from '../bpf/hop_cipher';

export const HOP_MAC_INFO = 'cillion_hop_mac_info';

export interface RouterMetricSources {
  hopMac: HopMacReport;
  /** Packets and wire bytes per datapath counter, by counter name (bpf/abi.ts COUNTERS). */
  datapath: () => DatapathTotals;
}

export class RouterMetrics {
  readonly registry = new Registry();

  constructor(src: RouterMetricSources) {
    const r = this.registry;
    // An info metric: the labels are the fact, the value is always 1.
    new Gauge({ name: HOP_MAC_INFO, help: 'How this router computes hop-field MACs: method kfunc (kernel AES via BPF crypto kfuncs) or table (T-table AES in BPF, the fallback); driver is the kernel cipher the kfuncs run, reason why the fallback runs.', labelNames: ['method', 'driver', 'reason'], registers: [r] }).set(
      { method: src.hopMac.method, driver: src.hopMac.driver ?? '', reason: src.hopMac.reason ?? '' },
      1,
    );
    datapathCounters(r, src.datapath);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
