// The datapath's SPAO key table as the control plane fills it (mesh/key_sync.ts): one entry
// per (peer AS, direction, epoch), up to three epochs per (peer AS, direction) at once. The
// BPF implementation lives with the datapath (spaodp); tests use an in-memory one.

export interface DatapathKey {
  peerIa: bigint;            // the other AS (ISD<<48|AS)
  dir: 'tx' | 'rx';          // tx: seal packets to peerIa; rx: verify packets from peerIa
  epochBeginNs: bigint;      // Unix ns
  notAfterNs: bigint;        // Unix ns: epoch end + grace
  clusterId: number;         // cluster id of peerIa (rx checks the identity's cluster against it)
  key: Uint8Array;           // 16-byte AES key K_{A->B}
}

export interface DatapathKeyTable {
  list(): Omit<DatapathKey, 'key'>[];
  put(k: DatapathKey): void;          // install or replace (peerIa, dir, epochBeginNs)
  remove(peerIa: bigint, dir: 'tx' | 'rx', epochBeginNs: bigint): void;
}
