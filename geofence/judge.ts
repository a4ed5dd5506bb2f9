// Gives each flow its geofence verdict: the fences in force come from a resource source
// (followed as it changes), the workloads from the flow's own endpoint labels, the path
// from the flow's hop fields alone. The relay judges every flow it stores with its own
// view of the control plane; a node's local Observer judges the same way with the node's.
//
// A flow's path is evidence, not truth: the judge rebuilds it from the raw hop fields
// (paths/verify.ts) and overwrites whatever fingerprint, hops, geo, country or
// known_to_control_plane the flow carried, and the verdict, before any fence sees it. An
// SRv6 path likewise, from its Segment Routing Header and outer source
// (paths/srv6_verify.ts), placed in the relay's SID catalogue.
//
// Which kind of WAN path a flow took is also the evidence's word, not the sender's: a flow
// with only an SRv6 path is SRv6, with only a SCION path SCION, with neither no kind at all
// whatever it claims; a flow carrying both keeps its claim if it names one of them, and no
// fence can call it compliant (a packet takes one WAN path, so one of the two is false).
import { LRUCache } from 'lru-cache';
import { workloadFromFlowLabels, type WorkloadLabels } from '../identity/workload_labels';
import type { ResourceEvent, ResourceSource } from '../resources/source';
import { WanPathType, type Endpoint, type Flow, type Geofence, type ScionObservationPoint, type ScionPath, type Srv6Path } from '../proto/gen/flow/flow';
import type { PathAuthority } from '../paths/authority';
import { PathVerifier } from '../paths/verify';
import { Srv6PathVerifier, type SidAuthority } from '../paths/srv6_verify';
import { GeofenceEngine, type Unchecked } from './engine';
import { toFlowGeofence } from './proto';

/** A flow endpoint's workload labels for fence selectors; undefined when it is not a pod. */
export function endpointWorkload(ep: Endpoint | undefined): WorkloadLabels | undefined {
  if (!ep || ep.namespace === '') return undefined;
  return workloadFromFlowLabels(ep.namespace, ep.labels);
}

/** One WorkloadLabels object per distinct label set, which the engine's caches key on. */
class WorkloadCache {
  private readonly cache = new LRUCache<string, { w: WorkloadLabels | undefined }>({ max: 16384 });

  of(ep: Endpoint | undefined): WorkloadLabels | undefined {
    if (!ep || ep.namespace === '') return undefined;
    const key = `${ep.namespace}\0${ep.labels.join('\0')}`;
    let hit = this.cache.get(key);
    if (!hit) {
      hit = { w: endpointWorkload(ep) };
      this.cache.set(key, hit);
    }
    return hit.w;
  }
}

/** Vouches for nothing: without a control plane every path is rebuilt from its bytes alone. */
const NOBODY: PathAuthority = { name: 'nobody', generation: 0, match: () => undefined };

export interface FlowJudgeOptions {
  /** The control plane hop fields are checked against; without one no path is verified. */
  paths?: PathAuthority;
  /** A verifier over the control plane already in use (the node's catalog's), instead of a second one over `paths`. */
  verifier?: PathVerifier;
  /** The SID catalogue SRv6 segments are placed in; without it no SRv6 path is verified. */
  srv6?: SidAuthority;
  log?: (m: string) => void;
}

export interface RebuiltSrv6Path {
  path: Srv6Path;
  /** Why the path could not be checked, when it could not. */
  unchecked?: Unchecked;
  /** With unchecked malformedSrh: the SRH decoder's error code. */
  detail?: string;
  /** The sender named a fingerprint other than the one its segments give. */
  fingerprintMismatch: boolean;
}

/** The WAN path type a flow carrying these paths took, by its evidence; see the top of this file. */
export function evidencePathType(claimed: WanPathType, scion: boolean, srv6: boolean): WanPathType {
  if (scion && srv6) return claimed === WanPathType.WAN_PATH_SCION || claimed === WanPathType.WAN_PATH_SRV6 ? claimed : WanPathType.WAN_PATH_TYPE_UNKNOWN;
  if (srv6) return WanPathType.WAN_PATH_SRV6;
  if (scion) return WanPathType.WAN_PATH_SCION;
  return WanPathType.WAN_PATH_TYPE_UNKNOWN;
}

export interface RebuiltPath {
  path: ScionPath;
  /** Why the path could not be checked, when it could not. */
  unchecked?: Unchecked;
  /** The sender named a fingerprint other than the one its hop fields give. */
  fingerprintMismatch: boolean;
}

export interface Judgement {
  /** The flow named a path fingerprint other than the one its hop fields give. */
  fingerprintMismatch: boolean;
}

export class FlowJudge {
  readonly engine = new GeofenceEngine();
  private readonly workloads = new WorkloadCache();
  private readonly verifier: PathVerifier;
  private readonly srv6Verifier: Srv6PathVerifier;
  private readonly unchecked: Unchecked | undefined;
  private readonly unwatch: () => void;
  /** SRv6Tenant resources in force: name -> VRF id, for naming a rebuilt path's tenant. */
  private readonly tenants = new Map<string, number>();

  constructor(resources: ResourceSource | undefined, opts: FlowJudgeOptions = {}) {
    this.verifier = opts.verifier ?? new PathVerifier(opts.paths ?? NOBODY);
    this.unchecked = opts.paths || opts.verifier ? undefined : 'noControlPlane';
    this.srv6Verifier = new Srv6PathVerifier(opts.srv6);
    this.unwatch = resources ? this.follow(resources, opts.log ?? (() => undefined)) : () => undefined;
  }

  /** Lets the control plane learn the paths a batch's path table names (a daemon query); call before judging them. */
  preparePaths(paths: readonly (ScionPath | undefined)[]): Promise<void> {
    return this.verifier.prepare(paths);
  }

  /**
   * Rebuilds the flow's path from its hop fields and sets its verdict, replacing whatever
   * it carried: both are the judge's to give.
   */
  judge(f: Flow): Judgement {
    const sent = f.scionPath;
    let unchecked: Unchecked | undefined;
    let fingerprintMismatch = false;
    if (sent !== undefined) {
      const v = this.rebuild(sent);
      unchecked = v.unchecked;
      fingerprintMismatch = v.fingerprintMismatch;
      f.scionPath = v.path;
    }
    f.pathType = evidencePathType(f.pathType, sent !== undefined, f.srv6Path !== undefined);
    const source = this.workload(f.source);
    const destination = this.workload(f.destination);
    if (f.srv6Path !== undefined) {
      const v = this.rebuildSrv6(f.srv6Path);
      fingerprintMismatch ||= v.fingerprintMismatch;
      f.srv6Path = v.path;
      f.geofence = this.decideSrv6(source, destination, v, f.scionObservationPoint, sent !== undefined);
    } else {
      f.geofence = this.decide(source, destination, f.scionPath, unchecked);
    }
    return { fingerprintMismatch };
  }

  /** Changes whenever the control plane's view does: a path rebuilt before may be another now. */
  get pathsGeneration(): number {
    return this.verifier.authority.generation;
  }

  /** The SRv6 path a sent one really is, from its SRH bytes and outer source alone. */
  rebuildSrv6(sent: Srv6Path): RebuiltSrv6Path {
    const v = this.srv6Verifier.verify(sent);
    const tenant = v.path.tenantId === 0 ? '' : this.tenantName(v.path.tenantId);
    return {
      path: tenant === v.path.tenant ? v.path : { ...v.path, tenant },
      unchecked: v.unverifiable,
      detail: v.detail,
      fingerprintMismatch: sent.fingerprint !== '' && sent.fingerprint !== v.path.fingerprint,
    };
  }

  /**
   * The verdict for a flow between these workloads over this rebuilt SRv6 path, seen at this
   * observation point; `alsoScion` when the flow carries a SCION path too (never compliant).
   */
  decideSrv6(source: WorkloadLabels | undefined, destination: WorkloadLabels | undefined, p: RebuiltSrv6Path, seenAt: ScionObservationPoint, alsoScion: boolean): Geofence | undefined {
    const check = this.engine.check({
      source,
      destination,
      path: undefined,
      srv6Path: p.path,
      seenAt,
      unchecked: alsoScion ? 'twoPaths' : p.unchecked,
      uncheckedDetail: alsoScion ? undefined : p.detail,
    });
    return check ? toFlowGeofence(check.decision) : undefined;
  }

  /** The path a sent path really is, from its hop fields and ends alone. */
  rebuild(sent: ScionPath): RebuiltPath {
    const v = this.verifier.verify(sent);
    return { path: v.path, unchecked: v.unverifiable ?? this.unchecked, fingerprintMismatch: sent.fingerprint !== '' && sent.fingerprint !== v.path.fingerprint };
  }

  /** An endpoint's workload labels, one object per distinct label set (what the engine caches on). */
  workload(ep: Endpoint | undefined): WorkloadLabels | undefined {
    return this.workloads.of(ep);
  }

  /** The verdict for a flow between these workloads over this rebuilt path; undefined when no fence applies. */
  decide(source: WorkloadLabels | undefined, destination: WorkloadLabels | undefined, path: ScionPath | undefined, unchecked: Unchecked | undefined): Geofence | undefined {
    const check = this.engine.check({ source, destination, path, unchecked });
    return check ? toFlowGeofence(check.decision) : undefined;
  }

  close(): void {
    this.unwatch();
  }

  private follow(source: ResourceSource, log: (m: string) => void): () => void {
    return source.watch((ev: ResourceEvent) => {
      if (ev.type === 'delete') {
        if (ev.key.kind === 'Geofence' && this.engine.remove(ev.key.name)) log(`geofence ${ev.key.name} removed`);
        if (ev.key.kind === 'SRv6Tenant') this.tenants.delete(ev.key.name);
        return;
      }
      if (ev.type === 'problem') return;
      const r = ev.entry.result;
      // An invalid fence (or tenant) keeps its last good version in force, as the operator does.
      if (!r.ok) return;
      if (r.value.kind === 'SRv6Tenant') this.tenants.set(r.value.metadata.name, r.value.spec.vrf);
      if (r.value.kind !== 'Geofence') return;
      if (this.engine.upsert(r.value)) log(`geofence ${r.value.metadata.name} in force`);
    });
  }

  /** The SRv6Tenant of a VRF id, by name (the first by name when several claim it); '' when none does. */
  private tenantName(vrf: number): string {
    let name = '';
    for (const [n, v] of this.tenants) if (v === vrf && (name === '' || n < name)) name = n;
    return name;
  }
}
