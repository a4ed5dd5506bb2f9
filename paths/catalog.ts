// A node's own catalog of the control plane's paths: the ones its datapath sends on (by
// path id) and the ones remote senders use towards it (by hop fields). The collector
// describes flows with it, and the node's judge checks flows' hop fields against it.
import type { ControlPlanePath } from '../controlplane/combinator';
import { defaultCountryLookup, type CountryLookup } from '../geo/country';
import type { ScionPath } from '../proto/gen/flow/flow';
import type { IA } from '../scion/isdas';
import { encodeScionPathBytes } from '../scion/path/raw';
import type { HopEvidence, PathAuthority } from './authority';
import { barePath, describePath } from './describe';
import { hopKey } from './hopfields';
import { PathVerifier } from './verify';

export interface CatalogEntry {
  /** The datapath's paths-map key; absent for paths it does not hold (other senders' paths). */
  pathId?: number;
  path: ControlPlanePath;
}

interface Vouched {
  src: IA;
  dst: IA;
  path: ScionPath;
}

/** Paths of the control plane, by datapath id and by hop fields. */
export class ControlPlaneCatalog implements PathAuthority {
  readonly name = "the node's control-plane paths";
  generation = 0;
  private ids = new Map<number, ScionPath>();
  private hops = new Map<string, Vouched>();
  /** Answers by raw bytes: a flow's bytes repeat in every report, decoding them again would not. The node's judge uses it too. */
  readonly verifier: PathVerifier;

  constructor(
    private readonly countries: CountryLookup = defaultCountryLookup,
    maxCached = 4096,
  ) {
    this.verifier = new PathVerifier(this, { maxCached });
  }

  /** Replaces the catalog. */
  set(entries: readonly CatalogEntry[]): void {
    const ids = new Map<number, ScionPath>();
    const hops = new Map<string, Vouched>();
    for (const e of entries) {
      const p = describePath(e.path, e.pathId ?? 0, this.countries);
      // The datapath's packets carry these hop fields; flows whose record lost them get these bytes.
      if (e.pathId !== undefined) ids.set(e.pathId, { ...p, raw: e.path.path.hopFields.length > 0 ? Buffer.from(encodeScionPathBytes(e.path.path)) : Buffer.alloc(0) });
      if (e.path.path.hopFields.length > 0) hops.set(hopKey(e.path.path.hopFields), { src: e.path.src, dst: e.path.dst, path: { ...p, pathId: 0 } });
    }
    this.ids = ids;
    this.hops = hops;
    this.generation++;
  }

  /** The path the datapath holds under this id; undefined when the id is unknown. */
  byId(pathId: number): ScionPath | undefined {
    return this.ids.get(pathId);
  }

  match(e: HopEvidence): ScionPath | undefined {
    const v = this.hops.get(e.key);
    return v !== undefined && v.src === e.src && v.dst === e.dst ? v.path : undefined;
  }

  /**
   * The path whose hop fields are these raw bytes, of this SCION header path type. A path
   * the control plane never handed out comes back with known_to_control_plane = false and
   * only what the bytes say.
   */
  byRaw(raw: Uint8Array, pathType: number, srcIA: IA, dstIA: IA): ScionPath {
    return this.verifier.verify({ ...barePath(srcIA, dstIA, pathType), raw: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength) }).path;
  }
}
