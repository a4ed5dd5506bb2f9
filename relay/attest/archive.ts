// An attestation directory as one tar file (the web UI's download): the four files under
// their fixed names, nothing else. Unpacking takes only those names as regular files at the
// top level, so a crafted archive cannot write outside the directory, link anywhere or
// smuggle in other files; `cillion attest verify FILE.tar` unpacks into a temporary directory.
import { open } from 'node:fs/promises';
import { create, extract } from 'tar';
import type { Pack } from 'tar';
import { ENVELOPE_NAME, REPORT_NAME } from './files';
import { EVIDENCE_NAME } from './statement';
import { TREE_INDEX_NAME } from './tree_index';

export const ATTESTATION_FILES: readonly string[] = [ENVELOPE_NAME, EVIDENCE_NAME, TREE_INDEX_NAME, REPORT_NAME];

/** A tar stream of the attestation in `dir`. */
export function packAttestation(dir: string): Pack {
  return create({ cwd: dir, portable: true }, [...ATTESTATION_FILES]);
}

/** Whether `file` is a tar archive (the "ustar" magic of a POSIX header). */
export async function isTarFile(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(8);
    const { bytesRead } = await fh.read(buf, 0, 8, 257);
    return bytesRead >= 5 && buf.subarray(0, 5).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

/** Unpacks the attestation files of the tar `file` into `dir`; other entries are skipped. */
export async function unpackAttestation(file: string, dir: string): Promise<void> {
  await extract({
    file,
    cwd: dir,
    strict: true,
    filter: (path, entry) => ATTESTATION_FILES.includes(path.replace(/^\.\//, '')) && (entry as { type?: string }).type === 'File',
  });
}
