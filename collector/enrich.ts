// What the collector adds to a metered flow before export: who the endpoints are (pod,
// namespace, labels, security identity) and which SCION path the packets took, with the
// control plane's metadata for it (hops, interfaces, geo, latency, expiry), or, for a
// packet that went over SRv6, the Segment Routing Header it carried.
//
// Two lookups, each behind an interface so the embedded mode and Kubernetes can supply
// their own: EndpointDirectory (pod IP -> endpoint) and PathCatalog (datapath path id or
// raw path bytes -> flow.ScionPath). The endpoints here serve the embedded mode: workloads
// from operator/workloads with identities from the operator's allocation; the node's paths
// come from paths/catalog.ts, under the ids the datapath was programmed with.
import type { IdentityView } from '../identity/allocator';
import { flowLabels, workloadLabels } from '../identity/workload_labels';
import type { Workload } from '../identity/workload';
import type { ScionPath, Srv6Path } from '../proto/gen/flow/flow';
import { decodeSrh, travelOrder } from '../srv6/srh';
import { sidText } from '../srv6/sid';
import type { IA } from '../scion/isdas';
import { pathTypeOf } from '../paths/describe';
import type { MeteredFlow } from './flowtable';
import type { EndpointInfo } from '../identity/endpoint';

export interface EndpointDirectory {
  lookup(ip: string): EndpointInfo | undefined;
}

/** Endpoints of other clusters of the mesh, from their identity catalogues (mesh/store.ts). */
export interface RemoteDirectory {
  byIdentity(identity: number): EndpointInfo | undefined;
  byAddress(ip: string): EndpointInfo | undefined;
}

/** Endpoints of the embedded mode: a workload list, identities from a lookup. */
export class WorkloadEndpoints implements EndpointDirectory {
  private byIp = new Map<string, EndpointInfo>();

  constructor(
    private readonly clusterName: string,
    private readonly identityOf: (w: Workload) => number | undefined,
  ) {}

  /** Identities as the operator allocated them; a workload without one gets identity 0 (unknown). */
  static withAllocator(clusterName: string, allocator: IdentityView): WorkloadEndpoints {
    return new WorkloadEndpoints(clusterName, (w) => allocator.lookupByLabels(w.namespace, w.labels)?.id);
  }

  /** Replaces the workload list. */
  update(workloads: readonly Workload[]): void {
    const next = new Map<string, EndpointInfo>();
    for (const w of workloads) {
      next.set(w.ip, {
        identity: this.identityOf(w) ?? 0,
        podName: w.name,
        namespace: w.namespace,
        labels: flowLabels(w.namespace, workloadLabels(w.namespace, w.labels, w.namespaceLabels)),
        clusterName: this.clusterName,
      });
    }
    this.byIp = next;
  }

  lookup(ip: string): EndpointInfo | undefined {
    return this.byIp.get(ip);
  }
}

export interface PathCatalog {
  /** The path the datapath holds under this id (its raw bytes those of the template); undefined when the id is unknown. */
  byId(pathId: number): ScionPath | undefined;
  /**
   * The path whose hop fields are these raw bytes (path type as the SCION header gives
   * it). A path the control plane never handed out comes back with
   * known_to_control_plane = false and only what the bytes say.
   */
  byRaw(raw: Uint8Array, pathType: number, srcIA: IA, dstIA: IA): ScionPath;
}

export interface Enrichment {
  source: EndpointInfo | undefined;
  destination: EndpointInfo | undefined;
  /** The SCION path; undefined for an SRv6 flow. */
  path: ScionPath | undefined;
  /** The SRv6 path's evidence, for an SRv6 flow. */
  srv6Path?: Srv6Path;
}

/**
 * The sender of a flow: a local endpoint by address; else a remote one by the address its
 * cluster published; else, on ingress, by the identity the packet carried, looked up in the
 * catalogue of the cluster its high bits name. Local endpoints come first, so no catalogue
 * can rename a pod of this cluster.
 */
function sourceOf(f: MeteredFlow, endpoints: EndpointDirectory, remote: RemoteDirectory | undefined): EndpointInfo | undefined {
  if (!f.inner) return undefined;
  const local = endpoints.lookup(f.inner.srcAddr);
  if (local || !remote) return local;
  const byAddress = remote.byAddress(f.inner.srcAddr);
  if (byAddress) return byAddress;
  if (f.direction !== 'INGRESS_DECAP' || f.identity === 0) return undefined;
  const byIdentity = remote.byIdentity(f.identity);
  return byIdentity && { ...byIdentity, claimed: true };
}

function destinationOf(f: MeteredFlow, endpoints: EndpointDirectory, remote: RemoteDirectory | undefined): EndpointInfo | undefined {
  if (!f.inner) return undefined;
  return endpoints.lookup(f.inner.dstAddr) ?? remote?.byAddress(f.inner.dstAddr);
}

/**
 * Endpoints by the inner addresses (and a remote sender by its identity, see sourceOf); the
 * path by id when the datapath named one, else by its bytes. Either way the path carries the
 * raw bytes the packets had (for a path id whose record lost them, the template's), the
 * evidence a relay checks it by.
 */
export function enrich(f: MeteredFlow, endpoints: EndpointDirectory, paths: PathCatalog, remote?: RemoteDirectory): Enrichment {
  if (f.pathKind === 'srv6') {
    return { source: sourceOf(f, endpoints, remote), destination: destinationOf(f, endpoints, remote), path: undefined, srv6Path: srv6Evidence(f) };
  }
  const byId = f.pathId !== 0 ? paths.byId(f.pathId) : undefined;
  const recorded = f.path.length > 0 && !f.pathTruncated;
  return {
    source: sourceOf(f, endpoints, remote),
    destination: destinationOf(f, endpoints, remote),
    path: byId
      ? recorded ? { ...byId, type: pathTypeOf(f.pathType), raw: Buffer.from(f.path.buffer, f.path.byteOffset, f.path.byteLength) } : byId
      : { ...paths.byRaw(recorded ? f.path : new Uint8Array(0), f.pathType, f.srcIA, f.dstIA), pathId: f.pathId },
  };
}

/**
 * An SRv6 flow's path as the datapath saw it: the SRH bytes and the outer source (the
 * evidence a relay rebuilds everything else from), with the segments and Segments Left
 * read from those bytes for local readers. A header that does not decode, or was cut short
 * in the record, keeps its bytes and names no segments.
 */
export function srv6Evidence(f: MeteredFlow): Srv6Path {
  const raw = Buffer.from(f.path.buffer, f.path.byteOffset, f.path.byteLength);
  const d = f.pathTruncated ? undefined : decodeSrh(raw);
  const srh = d?.ok ? d.srh : undefined;
  return {
    segments: srh ? travelOrder(srh).map(sidText) : [],
    segmentsLeft: srh?.segmentsLeft ?? 0,
    source: f.outerSrc ?? '',
    tenantId: f.tenantId ?? 0,
    tenant: '',
    hops: [],
    fingerprint: '',
    knownToCatalogue: false,
    hmac: undefined,
    raw,
    pathId: f.pathId,
    latencyNs: undefined,
  };
}
