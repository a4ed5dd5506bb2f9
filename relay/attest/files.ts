// An attestation on disk: one directory holding the evidence, its proof index, the signed
// envelope and the report, under fixed names so `cillion attest verify DIR` finds them.
//
// An export is written as a draft: every file under a temporary name, the evidence hashed
// as it arrives. Only when the envelope is there and the evidence is exactly what its
// statement says (file SHA-256, Merkle root, number of flows) are the files renamed into
// place, the envelope last; a failed export removes its draft. So a directory with an
// envelope always holds a complete attestation, and a half-written one is never mistaken
// for it.
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { envelopePayload, IN_TOTO_PAYLOAD_TYPE, verifyEnvelope, type Envelope } from './dsse';
import type { EvidenceSink } from './export';
import { keyId } from './keys';
import { leafHash } from './merkle';
import { EVIDENCE_NAME, type Statement } from './statement';
import { TREE_INDEX_NAME, TreeIndexBuilder } from './tree_index';

export const ENVELOPE_NAME = 'attestation.dsse.json';
export const REPORT_NAME = 'report.md';

/** The export is not kept: what arrived does not match what was signed, or did not all arrive. */
export class DraftError extends Error {}

export interface AttestationDraft {
  /** Receives flows.ndjson in order. */
  sink: EvidenceSink;
  /**
   * Checks the evidence against the statement the envelope carries (and, given `signers`,
   * that each of them signed it), then moves the files into place. Returns the statement.
   */
  commit(env: Envelope, report: string, signers?: KeyObject[]): Promise<Statement>;
  /** Removes the draft; harmless after commit. */
  abort(): Promise<void>;
}

function opened(path: string): Promise<WriteStream> {
  const out = createWriteStream(path, { flags: 'wx' });
  return new Promise((resolve, reject) => out.once('open', () => resolve(out)).once('error', reject));
}

function writer(out: WriteStream): { write(b: Buffer): Promise<void>; end(): Promise<void>; failed(): Error | undefined } {
  let failed: Error | undefined;
  out.on('error', (e) => (failed = e));
  return {
    write: (b) =>
      new Promise<void>((resolve, reject) => {
        if (failed) return reject(failed);
        if (out.write(b)) resolve();
        else out.once('drain', () => resolve());
      }),
    end: () => new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e || failed ? reject(e ?? failed) : resolve()))),
    failed: () => failed,
  };
}

export async function draftAttestation(dir: string): Promise<AttestationDraft> {
  await mkdir(dir, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = (name: string): string => join(dir, `.${name}.${tag}.partial`);
  const names = [EVIDENCE_NAME, TREE_INDEX_NAME, REPORT_NAME, ENVELOPE_NAME];
  const evidenceOut = writer(await opened(temp(EVIDENCE_NAME)));
  const treeOut = writer(await opened(temp(TREE_INDEX_NAME)).catch(async (e: unknown) => {
    await evidenceOut.end().catch(() => undefined);
    await unlink(temp(EVIDENCE_NAME)).catch(() => undefined);
    throw e;
  }));
  const tree = new TreeIndexBuilder((b) => treeOut.write(b));
  const fileHash = createHash('sha256');
  let bytes = 0;
  // The current line's start in the file, and its bytes so far when it spans chunks.
  let lineStart = 0;
  let partial: Buffer[] = [];
  let closed = false;

  const sink: EvidenceSink = async (chunk, leaves) => {
    fileHash.update(chunk);
    let from = 0;
    let i = 0;
    // Leaf hashes handed over only for chunks of whole lines, as the exporter writes them.
    const given = leaves && partial.length === 0 && chunk[chunk.length - 1] === 10 ? leaves : undefined;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, from)) {
      const piece = chunk.subarray(from, nl);
      const line = partial.length ? Buffer.concat([...partial, piece]) : piece;
      partial = [];
      await tree.add(given?.[i++] ?? leafHash(line), lineStart);
      lineStart = bytes + nl + 1;
      from = nl + 1;
    }
    if (given && i !== given.length) throw new DraftError(`${given.length} leaf hashes given for ${i} lines`);
    if (from < chunk.length) partial.push(Buffer.from(chunk.subarray(from)));
    bytes += chunk.length;
    await evidenceOut.write(chunk);
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all([evidenceOut.end(), treeOut.end()]);
  };

  const abort = async (): Promise<void> => {
    await close().catch(() => undefined);
    await Promise.all(names.map((n) => unlink(temp(n)).catch(() => undefined)));
  };

  const commit = async (env: Envelope, report: string, signers: KeyObject[] = []): Promise<Statement> => {
    if (partial.length) throw new DraftError('the evidence ends in the middle of a line');
    const root = await tree.finish(bytes);
    await close();
    const payload = envelopePayload(env);
    if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new DraftError(`the envelope's payload type is ${env.payloadType}`);
    let st: Statement;
    try {
      st = JSON.parse(payload.toString('utf8')) as Statement;
    } catch (e) {
      throw new DraftError(`the signed statement is not JSON: ${(e as Error).message}`);
    }
    const ev = st?.predicate?.evidence;
    const sha = fileHash.digest('hex');
    if (ev?.sha256 !== sha) throw new DraftError(`the evidence received (SHA-256 ${sha}) is not the evidence signed (${String(ev?.sha256)})`);
    if (st.subject?.[0]?.digest?.sha256 !== root.toString('hex')) throw new DraftError(`the evidence's Merkle root ${root.toString('hex')} is not the signed subject`);
    if (ev.flows !== tree.size) throw new DraftError(`${tree.size} flows received, the statement signs ${String(ev.flows)}`);
    for (const k of signers) {
      if (verifyEnvelope(env, [k]).length === 0) throw new DraftError(`the envelope holds no valid signature by key ${keyId(k)}`);
    }
    await writeFile(temp(REPORT_NAME), report, { flag: 'wx' });
    await writeFile(temp(ENVELOPE_NAME), `${JSON.stringify(env, null, 2)}\n`, { flag: 'wx' });
    // An older attestation in the directory loses its envelope first, so no moment pairs it with the new evidence.
    await unlink(join(dir, ENVELOPE_NAME)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    for (const n of names) await rename(temp(n), join(dir, n));
    return st;
  };

  return { sink, commit, abort };
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
