// Where the operator's desired state comes from: a directory of YAML files (directory.ts)
// or the Kubernetes API. Both hand out the same events, so the reconciler cannot tell which.
import type { Problem, Validation } from './problems';
import type { AnyResource, ResourceKey } from './resource';
import type { ResourceStatus } from './status';

/** One resource as the source knows it: valid (typed) or invalid (with its problems). */
export interface SourceEntry {
  key: ResourceKey;
  /** Bumped whenever the resource's spec (or anything but its status) changes; starts at 1. */
  generation: number;
  /** Opaque, changes on every change the source sees. */
  resourceVersion: string;
  /** Where it came from, for messages: "file.yaml#2" or "kubernetes". */
  origin: string;
  result: Validation<AnyResource>;
}

export type ResourceEvent =
  | { type: 'add' | 'update'; entry: SourceEntry }
  | { type: 'delete'; key: ResourceKey; last: SourceEntry }
  /** Input that names no resource (unparseable file, unknown kind, missing name, duplicate key). */
  | { type: 'problem'; origin: string; problems: Problem[] };

export interface ResourceSource {
  /** Every resource currently known, once the first full read is done. */
  list(): Promise<SourceEntry[]>;
  /**
   * Calls `listener` with an 'add' for every current resource, then with every change.
   * Returns the function that stops it.
   */
  watch(listener: (event: ResourceEvent) => void): () => void;
  /** Writes a resource's status (the status subresource, or its stand-in). */
  writeStatus(key: ResourceKey, status: ResourceStatus): Promise<void>;
  close(): Promise<void>;
}
