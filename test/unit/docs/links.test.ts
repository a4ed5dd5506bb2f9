import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anchors, checkLinks, documentationFiles, slug, type BrokenLink } from './links';

const ROOT = join(__dirname, '..', '..', '..');
const describeBroken = (broken: BrokenLink[]) => broken.map((b) => `  ${b.file}:${b.line}: ${b.target}: ${b.problem}`).join('\n');

describe('documentation links', () => {
  it('every relative link in README.md and docs/ resolves, anchors included', () => {
    const files = documentationFiles(ROOT);
    assert.ok(files.includes('README.md') && files.includes('docs/README.md'), `found ${files.join(', ')}`);
    const broken = checkLinks(ROOT, files);
    if (broken.length > 0) assert.fail(`${broken.length} broken link(s) in the documentation:\n${describeBroken(broken)}`);
  });

  it('makes anchors the way GitHub does', () => {
    assert.equal(slug("Datapath crypto: hop-field MACs through the kernel's crypto kfuncs"), 'datapath-crypto-hop-field-macs-through-the-kernels-crypto-kfuncs');
    assert.equal(slug('The operator (`operator/`), `cillion operator` and `cillion paths`'), 'the-operator-operator-cillion-operator-and-cillion-paths');
    assert.equal(slug('[Linked](x.md) heading_with_underscore'), 'linked-heading_with_underscore');
    assert.deepEqual([...anchors('# A\n## A\n```\n# not a heading\n```\n## A\n<a id="here"></a>\n')], ['a', 'a-1', 'a-2', 'here']);
  });

  describe('on a tree with broken links', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'cillion-links-'));
      mkdirSync(join(dir, 'docs'));
      writeFileSync(join(dir, 'docs', 'guide.md'), '# Guide\n\n## Step one\n');
      writeFileSync(
        join(dir, 'README.md'),
        [
          '# Front',
          '[fine](docs/guide.md#step-one) [fine too](#front) [web](https://example.com/x.md)',
          '[gone](docs/missing.md) and [bad anchor](docs/guide.md#step-two)',
          '`[in code](docs/nope.md)`',
          '```',
          '[in a block](docs/nope.md)',
          '```',
          '[out](../elsewhere.md)',
          '[ref]: docs/absent.md',
        ].join('\n'),
      );
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('reports each broken link with its line and why, and nothing else', () => {
      const broken = checkLinks(dir, documentationFiles(dir));
      assert.deepEqual(
        broken.map((b) => `${b.file}:${b.line} ${b.target}: ${b.problem}`),
        [
          'README.md:3 docs/missing.md: docs/missing.md does not exist',
          'README.md:3 docs/guide.md#step-two: no heading of docs/guide.md gives #step-two',
          'README.md:8 ../elsewhere.md: points outside the repository',
          'README.md:9 docs/absent.md: docs/absent.md does not exist',
        ],
      );
    });
  });
});
