// An attestation as a tar: packed with the four files, unpacked taking only those (no other
// names, no links, nothing outside the directory), and told apart from other files.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'tar';
import { ATTESTATION_FILES, isTarFile, packAttestation, unpackAttestation } from '../../../../relay/attest/archive';

describe('relay/attest/archive', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-archive-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function packed(from: string, to: string): Promise<void> {
    const parts: Buffer[] = [];
    for await (const c of packAttestation(from)) parts.push(c as Buffer);
    writeFileSync(to, Buffer.concat(parts));
  }

  it('packs the four files and unpacks them unchanged', async () => {
    const src = join(dir, 'src');
    mkdirSync(src);
    for (const n of ATTESTATION_FILES) writeFileSync(join(src, n), `content of ${n}\n`);
    writeFileSync(join(src, 'other.txt'), 'not part of it');
    await packed(src, join(dir, 'a.tar'));
    assert.equal(await isTarFile(join(dir, 'a.tar')), true);
    assert.equal(await isTarFile(join(src, 'report.md')), false);
    const out = join(dir, 'out');
    mkdirSync(out);
    await unpackAttestation(join(dir, 'a.tar'), out);
    assert.deepEqual(readdirSync(out).sort(), [...ATTESTATION_FILES].sort());
    for (const n of ATTESTATION_FILES) assert.equal(readFileSync(join(out, n), 'utf8'), `content of ${n}\n`);
  });

  it('takes nothing but the four names as regular files at the top level', async () => {
    const src = join(dir, 'evil', 'inner');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(dir, 'evil', 'attestation.dsse.json'), 'outside');
    writeFileSync(join(src, 'extra.sh'), 'echo');
    mkdirSync(join(src, 'sub'));
    writeFileSync(join(src, 'sub', 'report.md'), 'nested');
    symlinkSync('/etc/passwd', join(src, 'flows.ndjson'));
    await create({ cwd: src, file: join(dir, 'evil.tar'), preservePaths: true }, ['../attestation.dsse.json', 'extra.sh', 'sub/report.md', 'flows.ndjson']);
    const out = join(dir, 'x', 'y');
    mkdirSync(out, { recursive: true });
    await unpackAttestation(join(dir, 'evil.tar'), out);
    assert.deepEqual(readdirSync(out), []);
    assert.equal(existsSync(join(dir, 'x', 'attestation.dsse.json')), false);
    assert.equal(lstatSync(join(src, 'flows.ndjson')).isSymbolicLink(), true, 'the source link is untouched');
  });

  it('refuses a file that is not a tar', async () => {
    writeFileSync(join(dir, 'junk.tar'), Buffer.alloc(2048, 7));
    assert.equal(await isTarFile(join(dir, 'junk.tar')), false);
    mkdirSync(join(dir, 'o'));
    await assert.rejects(unpackAttestation(join(dir, 'junk.tar'), join(dir, 'o')));
  });
});
