// Who sends what in the demo. Every pod listens on its app's port; a pod sends to the pods of
// the same app in each cluster that the first of its SRv6PathPolicies, else the first of its
// WANPathPolicies (each by name, as the operator applies them), names as a destination (the
// SRv6 encapsulation runs ahead of the SCION edge, so an SRv6 policy wins). So the traffic
// follows the story the policies tell and needs no list of its own, except for the probes below.
import type { ResourceSet } from '../../operator/datapath/resources';
import { resolveDestinations } from '../../resources/remotecluster';
import { matchesWorkload, type WorkloadSelector } from '../../resources/selector';
import type { PeerConfig } from './peer';
import type { PlannedPod } from './plan';
import type { IA } from '../../scion/isdas';

export interface AppProfile {
  port: number;
  /** Flows (source ports) per destination pod: several let a multipath policy spread them. */
  flows: number;
  /** Packets per second per flow. */
  pps: number;
  /** UDP payload bytes; every app stays under the pods' MTU with the SCION overhead. */
  size: number;
}

export const APP_PROFILES: Readonly<Record<string, AppProfile>> = {
  billing: { port: 7000, flows: 1, pps: 10, size: 300 },
  video: { port: 7001, flows: 8, pps: 4, size: 1000 },
  replication: { port: 7002, flows: 4, pps: 5, size: 1000 },
  analytics: { port: 7003, flows: 1, pps: 5, size: 500 },
  // G.711 at 20 ms packetisation: 160 bytes of audio and a 12-byte RTP header, 50 a second.
  voip: { port: 7010, flows: 1, pps: 50, size: 172 },
  backup: { port: 7011, flows: 2, pps: 5, size: 1000 },
};
const OTHER_APP: AppProfile = { port: 7009, flows: 1, pps: 2, size: 200 };

/**
 * Cross-app flows the example CillionNetworkPolicies refuse, sent at a trickle so the demo
 * shows a denial each way: video -> billing is dropped at the receiving edge (Frankfurt's
 * billing-ingress), billing -> video at the sending edge (Zurich's billing-egress). Sent
 * to the same clusters the sender's own app goes to, on the target app's port.
 */
export const DEMO_PROBES: ReadonlyArray<{ from: string; to: string }> = [
  { from: 'video', to: 'billing' },
  { from: 'billing', to: 'video' },
];
const PROBE: Pick<AppProfile, 'pps' | 'size'> = { pps: 1, size: 200 };
const SRC_PORT_BASE = 41000;

export const profileOf = (pod: PlannedPod): AppProfile => APP_PROFILES[pod.workload.labels.app ?? ''] ?? OTHER_APP;

export interface PodTraffic {
  pod: PlannedPod;
  config: PeerConfig;
  /** Pods it sends to, "cluster/namespace/name", for the log. */
  targets: string[];
}

export function planTraffic(pods: readonly PlannedPod[], resources: ReadonlyMap<string, ResourceSet>, clusterIA: ReadonlyMap<string, IA>): PodTraffic[] {
  const clusterByIA = new Map([...clusterIA].map(([name, ia]) => [ia, name]));
  return pods.map((pod) => {
    const set = resources.get(pod.cluster);
    const w = pod.workload;
    const labels = { namespaceLabels: w.namespaceLabels, podLabels: w.labels };
    const byName = <T extends { metadata: { name: string }; spec: { workloadSelector: WorkloadSelector } }>(ps: readonly T[]): T | undefined =>
      [...ps].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).find((p) => matchesWorkload(p.spec.workloadSelector, labels));
    const srv6 = byName(set?.srv6Policies ?? []);
    const policy = byName(set?.policies ?? []);
    const profile = profileOf(pod);
    const config: PeerConfig = { listen: [profile.port], send: [] };
    const targets: string[] = [];
    const destinations = (): Array<string | undefined> => {
      if (srv6) return srv6.spec.destinations.map((d) => d.cluster);
      if (!policy || !set) return [];
      const resolved = resolveDestinations(policy.spec.destinations, set.remotes);
      return resolved.ok ? resolved.value.map((d) => d.cluster ?? clusterByIA.get(d.isdAS)) : [];
    };
    let next = SRC_PORT_BASE;
    for (const cluster of destinations()) {
      const remote = pods.filter((p) => p.cluster === cluster && p.cluster !== pod.cluster);
      for (const p of remote.filter((r) => r.workload.labels.app === w.labels.app)) {
        const srcPorts = Array.from({ length: profile.flows }, (_, i) => next + i);
        next += profile.flows;
        config.send.push({ dst: p.workload.ip, port: profile.port, srcPorts, pps: profile.pps, size: profile.size });
        targets.push(`${p.cluster}/${p.workload.namespace}/${p.workload.name}`);
      }
      for (const probe of DEMO_PROBES.filter((x) => x.from === w.labels.app)) {
        for (const p of remote.filter((r) => r.workload.labels.app === probe.to)) {
          config.send.push({ dst: p.workload.ip, port: profileOf(p).port, srcPorts: [next++], ...PROBE });
          targets.push(`${p.cluster}/${p.workload.namespace}/${p.workload.name} (probe)`);
        }
      }
    }
    return { pod, config, targets };
  });
}
