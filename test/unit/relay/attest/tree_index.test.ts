// The proof index: built as lines stream through, it gives for every flow of every tree
// size the same audit path as hashing the whole evidence does (RFC 6962), and refuses an
// index that does not describe the evidence beside it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inclusionProof, leafHash, merkleRoot } from '../../../../relay/attest/merkle';
import { proveFromIndex, TreeIndexBuilder, TreeIndexError } from '../../../../relay/attest/tree_index';

const lineOf = (i: number): Buffer => Buffer.from(`{"flow":${i}${'x'.repeat(i % 7)}}`);

/** Writes n evidence lines and their index; returns both paths. */
async function build(dir: string, n: number): Promise<{ evidence: string; index: string; root: Buffer }> {
  const evidence = join(dir, `ev-${n}`);
  const index = join(dir, `tree-${n}`);
  const out: Buffer[] = [];
  const builder = new TreeIndexBuilder(async (b) => void out.push(b));
  let offset = 0;
  const lines: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const l = lineOf(i);
    lines.push(l);
    await builder.add(leafHash(l), offset);
    offset += l.length + 1;
  }
  const root = await builder.finish(offset);
  writeFileSync(evidence, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
  writeFileSync(index, Buffer.concat(out));
  return { evidence, index, root };
}

describe('relay/attest/tree_index', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'cillion-tree-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('proves every flow of every tree size 1..70 exactly as the whole-file audit path', async () => {
    for (let n = 1; n <= 70; n++) {
      const { evidence, index, root } = await build(dir, n);
      const lines = Array.from({ length: n }, (_, i) => lineOf(i));
      const hashes = lines.map((l) => leafHash(l));
      assert.deepEqual(root, merkleRoot(lines), `root of ${n}`);
      for (let i = 0; i < n; i++) {
        const p = await proveFromIndex(index, evidence, i);
        assert.deepEqual(p.proof, inclusionProof(hashes, i), `flow ${i} of ${n}`);
        assert.deepEqual(p.line, lines[i]);
        assert.equal(p.size, n);
      }
    }
  });

  it('stays small: about 4.5 bytes a flow', async () => {
    const { index } = await build(dir, 4096);
    assert.ok(statSync(index).size < 4096 * 5, `${statSync(index).size} bytes`);
    const p = await proveFromIndex(index, join(dir, 'ev-4096'), 4000);
    assert.equal(p.proof.length, 12);
  });

  it('refuses a flow outside the tree, and an index that does not match its evidence', async () => {
    const { evidence, index } = await build(dir, 100);
    await assert.rejects(proveFromIndex(index, evidence, 100), RangeError);
    // The second stored node (leaves 16..31) changed: the path of flow 5 no longer leads to the root.
    const bad = join(dir, 'bad-node');
    const bytes = readFileSync(index);
    bytes[40] ^= 1;
    writeFileSync(bad, bytes);
    await assert.rejects(proveFromIndex(bad, evidence, 5), TreeIndexError);
    // Evidence of another length, and a file that is no index.
    const other = (await build(dir, 99)).evidence;
    await assert.rejects(proveFromIndex(index, other, 3), /describes \d+ bytes of evidence/);
    writeFileSync(join(dir, 'junk'), 'not an index at all, but long enough to hold a trailer of seventy-two bytes.');
    await assert.rejects(proveFromIndex(join(dir, 'junk'), evidence, 3), /not a proof index/);
    // The same length, one line changed: the block's leaves no longer lead to the root.
    const swapped = join(dir, 'swapped');
    writeFileSync(swapped, readFileSync(evidence, 'utf8').replace('{"flow":7', '{"flow":8'));
    await assert.rejects(proveFromIndex(index, swapped, 7), TreeIndexError);
  });
});
