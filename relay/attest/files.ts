// An attestation on disk: one directory holding the evidence, the signed envelope and the
// report, under fixed names so `cillion attest verify DIR` finds them.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Envelope } from './dsse';
import { EVIDENCE_NAME } from './statement';
import type { EvidenceSink } from './export';

export const ENVELOPE_NAME = 'attestation.dsse.json';
export const REPORT_NAME = 'report.md';

export interface EvidenceFile {
  sink: EvidenceSink;
  close(): Promise<void>;
}

export async function createEvidenceFile(dir: string): Promise<EvidenceFile> {
  await mkdir(dir, { recursive: true });
  const out = createWriteStream(join(dir, EVIDENCE_NAME));
  await new Promise<void>((resolve, reject) => out.once('open', () => resolve()).once('error', reject));
  let failed: Error | undefined;
  out.on('error', (e) => (failed = e));
  return {
    sink: (chunk) =>
      new Promise<void>((resolve, reject) => {
        if (failed) return reject(failed);
        if (out.write(chunk)) resolve();
        else out.once('drain', () => resolve());
      }),
    close: () => new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e || failed ? reject(e ?? failed) : resolve()))),
  };
}

export async function writeEnvelopeAndReport(dir: string, env: Envelope, report: string): Promise<void> {
  await writeFile(join(dir, ENVELOPE_NAME), `${JSON.stringify(env, null, 2)}\n`);
  await writeFile(join(dir, REPORT_NAME), report);
}

/** Where the envelope and the evidence of `target` are: a directory, or an envelope file beside its evidence. */
export async function locate(target: string, evidence?: string): Promise<{ envelope: string; evidence: string | undefined }> {
  const isDir = (await stat(target)).isDirectory();
  const envelope = isDir ? join(target, ENVELOPE_NAME) : target;
  if (evidence !== undefined) return { envelope, evidence };
  const beside = join(isDir ? target : dirname(target), EVIDENCE_NAME);
  const present = await stat(beside).then(() => true, () => false);
  return { envelope, evidence: present ? beside : undefined };
}

export function readEvidence(path: string): AsyncIterable<Buffer> {
  return createReadStream(path, { highWaterMark: 1 << 20 });
}
