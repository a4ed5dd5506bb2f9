// The service map's figures, kept incrementally as flows arrive: per workload its flow
// count, per (source, destination) workload pair its flows by verdict. Key counts are
// bounded; flows whose new node or edge would pass the bound are only counted as overflow.
import { verdictToJSON, type Flow } from '../../proto/gen/flow/flow';
import { pathVerdict, worseVerdict, type PathVerdict } from './verdicts';
import { workloadKey, workloadOf, type WorkloadRef } from './workload';

export interface GraphWorkload extends WorkloadRef {
  key: string;
  flows: number;
}

export interface GraphEdge {
  src: string;
  dst: string;
  crossCluster: boolean;
  flows: number;
  /** Flows by verdict name (FORWARDED, DROPPED, ...). */
  verdicts: Record<string, number>;
  /** The worst geofence verdict among its flows (a violation outweighs the rest). */
  geofence: PathVerdict;
}

export class ServiceGraphTally {
  readonly workloads = new Map<string, GraphWorkload>();
  readonly edges = new Map<string, GraphEdge>();
  overflow = 0;

  constructor(
    private readonly localCluster: string,
    private readonly maxWorkloads = 400,
    private readonly maxEdges = 2000,
  ) {}

  add(flow: Flow): void {
    const src = workloadOf(flow.source, flow, this.localCluster);
    const dst = workloadOf(flow.destination, flow, this.localCluster);
    const sk = workloadKey(src);
    const dk = workloadKey(dst);
    const ek = `${sk}>${dk}`;
    let edge = this.edges.get(ek);
    if (!edge) {
      const newNodes = (this.workloads.has(sk) ? 0 : 1) + (this.workloads.has(dk) || dk === sk ? 0 : 1);
      if (this.edges.size >= this.maxEdges || this.workloads.size + newNodes > this.maxWorkloads) {
        this.overflow++;
        return;
      }
      edge = { src: sk, dst: dk, crossCluster: src.cluster !== dst.cluster, flows: 0, verdicts: {}, geofence: 'none' };
      this.edges.set(ek, edge);
    }
    edge.flows++;
    const v = verdictToJSON(flow.verdict);
    edge.verdicts[v] = (edge.verdicts[v] ?? 0) + 1;
    edge.geofence = worseVerdict(edge.geofence, pathVerdict(flow));
    this.count(sk, src);
    if (dk !== sk) this.count(dk, dst);
  }

  private count(key: string, ref: WorkloadRef): void {
    const w = this.workloads.get(key);
    if (w) w.flows++;
    else this.workloads.set(key, { ...ref, key, flows: 1 });
  }
}

/** Whether a flow belongs to the edge `src` → `dst` (for the edge's flow list). */
export function flowOnEdge(flow: Flow, src: string, dst: string, localCluster: string): boolean {
  return workloadKey(workloadOf(flow.source, flow, localCluster)) === src && workloadKey(workloadOf(flow.destination, flow, localCluster)) === dst;
}
