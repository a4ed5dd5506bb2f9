// Against the certificate-transparency reference vectors (RFC 6962 tree hash): the eight
// leaf inputs, the root of every prefix, and two published audit paths.
import assert from 'node:assert/strict';
import { inclusionProof, leafHash, merkleRoot, MerkleAccumulator, MerkleRun, verifyInclusion } from '../../../../relay/attest/merkle';

const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(hex);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const PROOFS: { index: number; path: string[] }[] = [
  { index: 0, path: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { index: 5, path: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
];

describe('relay/attest/merkle (RFC 6962)', () => {
  it('gives the reference root for every tree size 0..8', () => {
    for (let n = 0; n <= 8; n++) assert.equal(merkleRoot(LEAVES.slice(0, n)).toString('hex'), ROOTS[n], `size ${n}`);
  });

  it('accumulates leaf by leaf to the same roots', () => {
    const acc = new MerkleAccumulator();
    LEAVES.forEach((l, i) => {
      acc.addLeaf(l);
      assert.equal(acc.root().toString('hex'), ROOTS[i + 1]);
    });
    assert.equal(acc.size, 8);
  });

  it('produces and accepts the reference audit paths', () => {
    const hashes = LEAVES.map(leafHash);
    for (const { index, path } of PROOFS) {
      assert.deepEqual(inclusionProof(hashes, index).map((p) => p.toString('hex')), path);
      assert.ok(verifyInclusion(hashes[index], index, 8, path.map(hex), hex(ROOTS[8])));
    }
  });

  it('verifies every leaf of every size up to 33 and rejects a wrong index, sibling or leaf', () => {
    for (let n = 1; n <= 33; n++) {
      const hashes = Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
      const acc = new MerkleAccumulator();
      hashes.forEach((h) => acc.addLeafHash(h));
      const root = acc.root();
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(hashes, i);
        assert.ok(verifyInclusion(hashes[i], i, n, proof, root), `leaf ${i} of ${n}`);
        if (n > 1) {
          assert.ok(!verifyInclusion(hashes[i], (i + 1) % n, n, proof, root), `index moved, leaf ${i} of ${n}`);
          assert.ok(!verifyInclusion(hashes[(i + 1) % n], i, n, proof, root), `other leaf, ${i} of ${n}`);
          const bad = proof.map((p, k) => (k === 0 ? leafHash(p) : p));
          assert.ok(!verifyInclusion(hashes[i], i, n, bad, root), `sibling changed, leaf ${i} of ${n}`);
        }
      }
    }
  });

  it('joins runs hashed apart, cut anywhere, into the root of the whole', () => {
    const leaves = Array.from({ length: 70 }, (_, i) => Buffer.from(`leaf ${i}`));
    const hashes = leaves.map(leafHash);
    for (const n of [1, 2, 3, 7, 8, 33, 70]) {
      const want = merkleRoot(leaves.slice(0, n));
      // Every cut into two runs, and runs of every fixed length.
      const cuts = [...Array.from({ length: n + 1 }, (_, c) => [0, c, n]), ...[1, 3, 5, 16].map((len) => [...Array.from({ length: Math.ceil(n / len) }, (_, k) => k * len), n])];
      for (const cut of cuts) {
        const acc = new MerkleAccumulator();
        for (let r = 0; r + 1 < cut.length; r++) {
          const run = new MerkleRun(cut[r]);
          for (let i = cut[r]; i < cut[r + 1]; i++) run.addLeafHash(hashes[i]);
          for (const t of run.subtrees()) acc.addSubtree(t.hash, t.size);
        }
        assert.equal(acc.size, n);
        assert.deepEqual(acc.root(), want, `${n} leaves cut at ${cut.join(',')}`);
      }
    }
  });

  it('refuses a subtree that does not fit where it would go', () => {
    const acc = new MerkleAccumulator();
    acc.addLeafHash(leafHash(Buffer.from('a')));
    assert.throws(() => acc.addSubtree(leafHash(Buffer.from('b')), 2), RangeError);
    assert.throws(() => acc.addSubtree(leafHash(Buffer.from('b')), 3), RangeError);
  });

  it('refuses an index outside the tree', () => {
    assert.throws(() => inclusionProof([leafHash(Buffer.alloc(0))], 1), RangeError);
    assert.ok(!verifyInclusion(leafHash(Buffer.alloc(0)), 1, 1, [], hex(ROOTS[1])));
  });
});
