// Counters shared by the processes' registries (collector/metrics.ts for the agent,
// metrics/router.ts for the router): figures kept elsewhere, read at scrape time.
import { Counter, type Registry } from 'prom-client';

/** A counter whose value is a cumulative figure kept elsewhere, read at each scrape. */
export function mirrored<L extends string>(registry: Registry, name: string, help: string, labelNames: L[], read: () => Array<[Record<L, string>, number]>): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) this.inc(labels, v);
    },
  });
}

/** Packets and wire bytes per datapath counter slot, by counter name (bpf/abi.ts COUNTERS). */
export type DatapathTotals = Record<string, { packets: bigint; bytes: bigint }>;

/** The datapath's counters, as an edge (agent) and a router both keep them. */
export function datapathCounters(registry: Registry, read: () => DatapathTotals): void {
  mirrored(registry, 'cillion_datapath_packets_total', 'Packets per datapath counter: verdicts, forwards, drop reasons (after the record too), ring reserve failures.', ['counter'], () =>
    Object.entries(read()).map(([counter, t]) => [{ counter }, Number(t.packets)]),
  );
  mirrored(registry, 'cillion_datapath_wire_bytes_total', 'Wire bytes (the SCION frame, or the pod frame before encapsulation) per datapath counter.', ['counter'], () =>
    Object.entries(read()).map(([counter, t]) => [{ counter }, Number(t.bytes)]),
  );
}
