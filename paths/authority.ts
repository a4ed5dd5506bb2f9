// Who vouches for a path: a view of the control plane that answers whether a hop-field
// sequence from one AS to another is one it handed out, and with which metadata.
import type { ScionPath } from '../proto/gen/flow/flow';
import type { IA } from '../scion/isdas';
import type { ScionPath as WirePath } from '../scion/path/model';

/** A flow's hop fields, decoded, with the ends it claims. */
export interface HopEvidence {
  src: IA;
  dst: IA;
  wire: WirePath;
  /** hopKey of wire.hopFields. */
  key: string;
}

export interface PathAuthority {
  /** What vouches, for logs. */
  readonly name: string;
  /** Bumped whenever an earlier "not handed out" may have become a match (a catalog replaced). */
  readonly generation: number;
  /** Learns what it needs to answer for these flows (a daemon query); never rejects. */
  prepare?(evidence: readonly HopEvidence[]): Promise<void>;
  /**
   * The path from e.src to e.dst with exactly these hop fields, as the control plane
   * describes it (path id 0, no raw bytes); undefined when it handed out none.
   */
  match(e: HopEvidence): ScionPath | undefined;
}
