// One flow's inclusion in an attestation's evidence: its line, its leaf hash and the RFC 6962
// audit path to the subject's Merkle root. An auditor holding only this proof and the
// signed statement can check that the flow was attested, without the rest of the evidence.
import { inclusionProof, leafHash, MerkleAccumulator, verifyInclusion } from './merkle';

export interface FlowInclusion {
  index: number;
  size: number;
  line: string;
  leafHash: string;
  /** Sibling hashes, nearest first, hex. */
  proof: string[];
  root: string;
}

export async function flowInclusion(evidence: AsyncIterable<Buffer>, index: number): Promise<FlowInclusion> {
  const hashes: Buffer[] = [];
  let line: Buffer | undefined;
  let rest = Buffer.alloc(0);
  const take = (l: Buffer): void => {
    if (hashes.length === index) line = Buffer.from(l);
    hashes.push(leafHash(l));
  };
  for await (const chunk of evidence) {
    let data = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let nl: number;
    while ((nl = data.indexOf(10)) >= 0) {
      take(data.subarray(0, nl));
      data = data.subarray(nl + 1);
    }
    rest = Buffer.from(data);
  }
  if (rest.length) take(rest);
  if (line === undefined) throw new RangeError(`flow ${index} is outside the evidence's ${hashes.length} flows`);
  const proof = inclusionProof(hashes, index);
  const acc = new MerkleAccumulator();
  for (const h of hashes) acc.addLeafHash(h);
  const root = acc.root();
  if (!verifyInclusion(hashes[index], index, hashes.length, proof, root)) throw new Error('internal error: inclusion proof does not verify');
  return { index, size: hashes.length, line: line.toString('utf8'), leafHash: hashes[index].toString('hex'), proof: proof.map((x) => x.toString('hex')), root: root.toString('hex') };
}
