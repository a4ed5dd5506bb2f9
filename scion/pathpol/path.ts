// What a path policy looks at: the path's interface list as snet's metadata gives it
// (source AS egress, then ingress/egress pairs of every transit AS, then destination
// AS ingress), plus the end ASes for paths without interfaces.
import type { IA } from '../isdas';
import type { PathInterface } from '../path/model';

export interface PolicyPath {
  src: IA;
  dst: IA;
  interfaces: readonly PathInterface[];
}
