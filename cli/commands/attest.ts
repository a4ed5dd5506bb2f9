// `cillion attest`: signed compliance attestations of where a workload's traffic went.
//   export        selects flows (source label selector, time window, optional geofence) from
//                 a store (--data-dir, --clickhouse-url) or a relay (--server), and writes DIR
//                 with flows.ndjson (evidence), flows.tree (proof index),
//                 attestation.dsse.json (signed in-toto statement) and report.md, all at once
//                 when the export is complete and checked, or nothing.
//   verify        checks an attestation (t of n trusted keys) and, with its evidence,
//                 recomputes everything; a tar of the directory (the web UI's download)
//                 is unpacked into a temporary directory first.
//   sign          adds signatures to an attestation's envelope (co-signers of a threshold).
//   prove         writes one flow's inclusion proof from the proof index.
//   verify-proof  checks such a proof against the signed envelope alone.
// Exit codes: 0 success/verified, 1 failure/verification failed, 2 usage.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { version } from '../../package.json';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { DirectorySource } from '../../operator/sources/directory';
import type { Geofence } from '../../resources/geofence';
import { AttestClient, type ExportResponse } from '../../proto/gen/attest/v1/attest';
import { isTarFile, unpackAttestation } from '../../relay/attest/archive';
import { addSignatures, EnvelopeError, envelopePayload, parseEnvelope } from '../../relay/attest/dsse';
import { exportAttestation, ExportUsageError, RECORD_CHOICES, storeIdentity, type RecordChoice } from '../../relay/attest/export';
import { DraftError, draftAttestation, locate, readEvidence } from '../../relay/attest/files';
import { flowInclusion, type FlowInclusion } from '../../relay/attest/inclusion';
import { KeyError, keyFromFile, keyId, privateKeyFromPem, publicKeyFromPem } from '../../relay/attest/keys';
import { parseProofFile, ProofFileError, proofFile, verifyProof } from '../../relay/attest/proof';
import { coverageLines, renderReport } from '../../relay/attest/report';
import { signStatement } from '../../relay/attest/sign';
import { receiveExport } from '../../relay/attest/receive';
import type { Statement } from '../../relay/attest/statement';
import { proveFromIndex, TREE_INDEX_NAME, TreeIndexError } from '../../relay/attest/tree_index';
import { verifyAttestation, type Failure, type VerifyResult } from '../../relay/attest/verify';
import { parseLabelSelector } from '../../observer/filters/label_selector';
import { openStore } from '../../relay/store/store';
import { describeError, DEFAULT_SERVER } from '../observe/client';
import { addTlsOptions, connection, dropEnvTls, SERVER_ENV, TlsFlagError, type TlsFlags } from '../observe/client_tls';
import { parseTimeArg } from '../../observer/time_arg';
import { UsageError } from '../usage_error';

interface ExportOptions extends TlsFlags {
  selector: string;
  since: string;
  until: string;
  geofence?: string;
  records: RecordChoice;
  key: string[];
  out: string;
  dataDir?: string;
  clickhouseUrl?: string;
  database: string;
  server?: string;
  resources?: string;
  allowIncomplete?: boolean;
}

interface TrustOptions {
  key: string[];
  threshold?: number;
  output: 'text' | 'json';
}

interface VerifyOptions extends TrustOptions {
  evidence?: string;
  flow?: number;
}

function timeArg(text: string, what: string, now: Date): Date {
  const t = parseTimeArg(text, now);
  if (!t) throw new UsageError(`${what} "${text}" is neither RFC 3339 nor a duration like 1h`);
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1_000_000));
}

/** A progress line on a terminal only; pipes and logs stay clean. */
function progressLine(): { update(flows: number): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  return {
    update(flows) {
      if (!tty) return;
      shown = true;
      process.stderr.write(`\r\x1b[Kexporting: ${flows.toLocaleString('en-US')} flows`);
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

async function fencesFrom(dir: string | undefined): Promise<(name: string) => Geofence | undefined> {
  if (!dir) return () => undefined;
  const source = new DirectorySource(dir);
  try {
    const fences = new Map<string, Geofence>();
    for (const e of await source.list()) {
      if (e.result.ok && e.result.value.kind === 'Geofence') fences.set(e.result.value.metadata.name, e.result.value as Geofence);
    }
    return (name) => fences.get(name);
  } finally {
    await source.close();
  }
}

function summary(st: Statement, dir: string): string {
  const t = st.predicate.totals;
  // The relays only when there is more to say than "this one store".
  const r = st.predicate.relays;
  const more = r && (r.covered.length > 1 || r.missing.length > 0 || r.sharedStoreWith.length > 0);
  const c = more ? coverageLines(st.predicate).map((l) => `\n  ${l}`).join('') : '';
  return `wrote ${dir}: ${t.flows} flows (${t.packets} packets, ${t.bytes} bytes), ${t.violation} violations, ${t.unverified} unverified; subject ${st.subject[0].digest.sha256}${c}\n`;
}

async function exportLocal(o: ExportOptions, since: Date, until: Date, keys: KeyObject[]): Promise<Statement> {
  const fences = await fencesFrom(o.resources);
  const store = await openStore({ dataDir: o.dataDir, url: o.clickhouseUrl, database: o.database });
  const progress = progressLine();
  let draft;
  try {
    draft = await draftAttestation(o.out);
    const { statement } = await exportAttestation(
      store,
      {
        selector: o.selector,
        since,
        until,
        geofence: o.geofence,
        records: o.records,
        fences,
        relay: { name: hostname(), version },
        store: storeIdentity({ dataDir: o.dataDir, url: o.clickhouseUrl, database: o.database }),
        onProgress: (n) => progress.update(n),
      },
      draft.sink,
    );
    return await draft.commit(signStatement(statement, keys), renderReport(statement, { keyid: keys.map(keyId).join(', ') }), keys);
  } finally {
    progress.done();
    await draft?.abort();
    await store.close();
  }
}

async function exportRemote(o: ExportOptions, server: string, since: Date, until: Date, keys: KeyObject[]): Promise<Statement> {
  const c = connection(server, o);
  const client = new AttestClient(c.address, c.credentials, c.options);
  const progress = progressLine();
  const ms = (d: Date) => ({ seconds: BigInt(Math.floor(d.getTime() / 1000)), nanos: (d.getTime() % 1000) * 1_000_000 });
  let draft;
  try {
    draft = await draftAttestation(o.out);
    const call = client.export({
      selector: o.selector, since: ms(since), until: ms(until), geofence: o.geofence ?? '', records: o.records, sign: keys.length === 0,
      allowIncomplete: o.allowIncomplete === true, evidenceOnly: false,
    });
    return await receiveExport(call as AsyncIterable<ExportResponse>, draft, { source: server, keys, onProgress: (n) => progress.update(n) });
  } catch (e) {
    if (e instanceof DraftError || e instanceof EnvelopeError) throw new Error(`${e.message}; nothing was written to ${o.out}`);
    throw new Error(`${describeError(e, server).replace('the Observer API', 'the relay')}; nothing was written to ${o.out}`);
  } finally {
    progress.done();
    await draft?.abort();
    client.close();
  }
}

async function runExport(o: ExportOptions): Promise<void> {
  const sources = [o.dataDir, o.clickhouseUrl, o.server].filter((x) => x !== undefined).length;
  if (sources !== 1) throw new UsageError('give exactly one of --data-dir, --clickhouse-url or --server');
  if (!o.server && o.key.length === 0) throw new UsageError('--key is required unless --server names a relay that signs');
  if (!o.server && o.tls) throw new UsageError('--tls goes with --server');
  if (!o.server && o.allowIncomplete) throw new UsageError('--allow-incomplete goes with --server (a relay gathering its peers)');
  try {
    parseLabelSelector(o.selector);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const now = new Date();
  const since = timeArg(o.since, '--since', now);
  const until = timeArg(o.until, '--until', now);
  const keys = await Promise.all(o.key.map((k) => keyFromFile(k, privateKeyFromPem)));
  const statement = o.server ? await exportRemote(o, o.server, since, until, keys) : await exportLocal(o, since, until, keys);
  process.stdout.write(summary(statement, o.out));
}

/** The trusted public keys and how many of them must have signed. */
async function trust(o: TrustOptions): Promise<{ keys: KeyObject[]; threshold: number }> {
  if (o.key.length === 0) throw new UsageError('--key is required');
  const keys = await Promise.all(o.key.map((k) => keyFromFile(k, publicKeyFromPem)));
  const distinct = new Set(keys.map(keyId)).size;
  const threshold = o.threshold ?? 1;
  if (threshold > distinct) throw new UsageError(`--threshold ${threshold} is more than the ${distinct} distinct keys given`);
  return { keys, threshold };
}

async function readTarget(path: string): Promise<Buffer> {
  return readFile(path).catch((e: Error) => {
    throw new UsageError(`cannot read ${path}: ${e.message}`);
  });
}

async function located(target: string, evidence?: string): Promise<{ envelope: string; evidence: string | undefined }> {
  try {
    return await locate(target, evidence);
  } catch (e) {
    throw new UsageError(`${target}: ${(e as Error).message}`);
  }
}

function printInclusion(inc: FlowInclusion, subject: string | undefined): string[] {
  return [
    `flow ${inc.index} of ${inc.size}: ${inc.line}`,
    `  leaf hash ${inc.leafHash}`,
    ...inc.proof.map((p, i) => `  proof[${i}] ${p}`),
    `  root ${inc.root} ${inc.root === subject ? '= subject digest' : '!= subject digest'}`,
  ];
}

/** Flow `index`'s inclusion: from the proof index beside the evidence when there is one, else by hashing the evidence. */
async function inclusionOf(evidence: string, index: number): Promise<FlowInclusion> {
  const tree = join(evidence, '..', TREE_INDEX_NAME);
  const indexed = await proveFromIndex(tree, evidence, index).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  });
  if (!indexed) return flowInclusion(readEvidence(evidence), index);
  const p = proofFile(indexed);
  return { index: p.index, size: p.treeSize, line: p.line, leafHash: indexed.leafHash.toString('hex'), proof: p.proof, root: p.subject };
}

/** Evidence this large is parsed in worker threads, one per core (up to 4), while this thread hashes. */
const PARALLEL_FROM_BYTES = 32 << 20;

async function verifyWorkers(evidence: string): Promise<number> {
  const cores = Math.min(availableParallelism(), 4);
  const size = await stat(evidence).then((s) => s.size, () => 0);
  return cores > 1 && size >= PARALLEL_FROM_BYTES ? cores : 0;
}

function signedBy(keyids: string[], threshold: number): string {
  return threshold > 1 ? `${keyids.length} trusted keys (${threshold} required): ${keyids.join(', ')}` : keyids.join(', ');
}

/** Verifies a directory or envelope, or a tar of an attestation directory (the web UI's download) unpacked into a temporary directory. */
async function runVerify(target: string, o: VerifyOptions): Promise<number> {
  const isTar = await stat(target).then((s) => s.isFile() && isTarFile(target), () => false);
  if (!isTar) return verifyTarget(target, o, (p) => p);
  const dir = await mkdtemp(join(tmpdir(), 'cillion-verify-'));
  try {
    try {
      await unpackAttestation(target, dir);
    } catch (e) {
      throw new UsageError(`${target}: not an attestation archive: ${(e as Error).message}`);
    }
    // Paths in the output name the archive's members, not the temporary directory.
    return await verifyTarget(dir, o, (p) => p.replace(dir, target).replace(`${target}/`, `${target}:`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function verifyTarget(target: string, o: VerifyOptions, shown: (path: string) => string): Promise<number> {
  const { keys, threshold } = await trust(o);
  const where = await located(target, o.evidence);
  if (o.flow !== undefined && !where.evidence) throw new UsageError('--flow needs the evidence (--evidence FILE or a DIR holding flows.ndjson)');
  const envelope = await readTarget(where.envelope);
  const result: VerifyResult = await verifyAttestation({ envelope, keys, threshold, evidence: where.evidence ? readEvidence(where.evidence) : undefined, workers: where.evidence ? await verifyWorkers(where.evidence) : 0 });
  const subject = result.statement?.subject?.[0]?.digest?.sha256;
  let inclusion: FlowInclusion | undefined;
  if (o.flow !== undefined && where.evidence) {
    try {
      inclusion = await inclusionOf(where.evidence, o.flow);
      if (inclusion.root !== subject) result.failures.push({ check: 'inclusion', message: `flow ${o.flow}'s proof leads to ${inclusion.root}, not the subject digest` });
    } catch (e) {
      if (!(e instanceof RangeError || e instanceof TreeIndexError)) throw e;
      result.failures.push({ check: 'inclusion', message: e.message });
    }
    result.ok = result.failures.length === 0;
  }
  if (o.output === 'json') {
    const p = result.statement?.predicate;
    const relays = p?.relays ? { relay: p.relay, covered: p.relays.covered, sharedStoreWith: p.relays.sharedStoreWith, missing: p.relays.missing, complete: p.relays.missing.length === 0 } : null;
    process.stdout.write(`${JSON.stringify({ ok: result.ok, keyid: result.keyid ?? null, keyids: result.keyids, subject: subject ?? null, evidence: where.evidence ? shown(where.evidence) : null, flows: result.evidenceFlows ?? null, relays, failures: result.failures, inclusion: inclusion ?? null })}\n`);
  } else {
    const lines: string[] = [];
    if (result.ok) {
      const p = result.statement?.predicate;
      lines.push(`VERIFIED ${shown(where.envelope)}: signed by ${signedBy(result.keyids, threshold)}`);
      if (p) lines.push(`  ${p.selector}, ${p.window.from} to ${p.window.to}: ${p.totals.flows} flows, ${p.totals.violation} violations, ${p.totals.unverified} unverified`);
      if (p) lines.push(...coverageLines(p).map((l) => `  ${l}`));
      lines.push(where.evidence ? `  evidence ${shown(where.evidence)}: ${result.evidenceFlows} flows, Merkle root = subject digest ${subject}` : '  evidence not checked (none given or found)');
    } else {
      lines.push(...failedLines(shown(where.envelope), result.failures));
    }
    if (inclusion) lines.push(...printInclusion(inclusion, subject));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return result.ok ? 0 : 1;
}

function failedLines(what: string, failures: Failure[]): string[] {
  return [`FAILED ${what}: ${failures.length} check${failures.length === 1 ? '' : 's'} failed`, ...failures.map((f) => `  ✗ ${f.check}: ${f.message}`)];
}

async function runSign(target: string, o: { key: string[] }): Promise<void> {
  if (o.key.length === 0) throw new UsageError('--key is required');
  const keys = await Promise.all(o.key.map((k) => keyFromFile(k, privateKeyFromPem)));
  const where = await located(target);
  let env;
  try {
    env = parseEnvelope(await readTarget(where.envelope));
  } catch (e) {
    if (e instanceof EnvelopeError) throw new Error(`${where.envelope}: ${e.message}`);
    throw e;
  }
  const signed = addSignatures(env, keys);
  const temp = `${where.envelope}.${process.pid}.partial`;
  await writeFile(temp, `${JSON.stringify(signed, null, 2)}\n`);
  await rename(temp, where.envelope);
  process.stdout.write(`signed ${where.envelope}: ${signed.signatures.length} signatures (added ${keys.map(keyId).join(', ')})\n`);
}

async function runProve(target: string, o: { flow: number; out?: string }): Promise<void> {
  const where = await located(target);
  if (!where.evidence) throw new UsageError(`${target}: no evidence (flows.ndjson) beside the envelope`);
  const tree = join(where.evidence, '..', TREE_INDEX_NAME);
  let proof;
  try {
    proof = proofFile(await proveFromIndex(tree, where.evidence, o.flow));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${tree}: no proof index (exports from this version write one)`);
    if (e instanceof RangeError) throw new UsageError(e.message);
    throw e;
  }
  const st = JSON.parse(envelopePayload(parseEnvelope(await readTarget(where.envelope))).toString('utf8')) as Statement;
  if (st.subject?.[0]?.digest?.sha256 !== proof.subject) throw new Error(`${tree} and ${where.evidence} lead to ${proof.subject}, not the subject digest of ${where.envelope}`);
  const text = `${JSON.stringify(proof, null, 2)}\n`;
  if (o.out === undefined) process.stdout.write(text);
  else {
    await writeFile(o.out, text);
    process.stdout.write(`wrote ${o.out}: flow ${proof.index} of ${proof.treeSize}, ${proof.proof.length} hashes\n`);
  }
}

async function runVerifyProof(proofPath: string, target: string, o: TrustOptions): Promise<number> {
  const { keys, threshold } = await trust(o);
  let proof;
  try {
    proof = parseProofFile(await readTarget(proofPath));
  } catch (e) {
    if (e instanceof ProofFileError) throw new UsageError(`${proofPath}: ${e.message}`);
    throw e;
  }
  const where = await located(target);
  const r = await verifyProof({ envelope: await readTarget(where.envelope), keys, threshold, proof });
  const subject = r.statement?.subject?.[0]?.digest?.sha256;
  if (o.output === 'json') {
    process.stdout.write(`${JSON.stringify({ ok: r.ok, keyids: r.keyids, subject: subject ?? null, index: proof.index, flows: r.statement?.predicate?.evidence?.flows ?? null, flow: r.flow ?? null, failures: r.failures })}\n`);
  } else if (r.ok) {
    const f = r.flow;
    const lines = [
      `VERIFIED ${proofPath}: flow ${proof.index} of ${r.statement?.predicate.evidence.flows} in the evidence signed by ${signedBy(r.keyids, threshold)}`,
      `  subject digest ${subject}, ${proof.proof.length} hashes`,
    ];
    if (f) lines.push(`  ${f.time} ${f.uuid} ${f.src.namespace}/${f.src.pod} -> ${f.dstIp}:${f.dstPort} ${f.fence ? `${f.fence.verdict} (${f.fence.name})` : 'no geofence'}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } else {
    process.stdout.write(`${failedLines(proofPath, r.failures).join('\n')}\n`);
  }
  return r.ok ? 0 : 1;
}

function nonNegativeInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

const repeat = (v: string, prev: string[]): string[] => [...prev, v];

function fail(e: unknown): void {
  const usage = e instanceof UsageError || e instanceof ExportUsageError || e instanceof KeyError || e instanceof TlsFlagError;
  process.stderr.write(`cillion attest: ${(e as Error).message}\n`);
  process.exitCode = usage ? 2 : 1;
}

function trustOptions(c: Command): Command {
  return c
    .requiredOption('--key <pub.pem>', 'trusted public key (or private key); repeatable', repeat, [] as string[])
    .option('--threshold <t>', 'how many distinct trusted keys must have signed (default 1)', positiveInt)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'));
}

export function attestCommand(): Command {
  const cmd = new Command('attest').description('Signed compliance attestations of where workloads\' traffic went');
  const exportCmd = cmd
    .command('export')
    .description('Export a signed attestation (DSSE in-toto statement), its flow evidence, proof index and a report into DIR')
    .requiredOption('--selector <selector>', 'label selector of the source workloads, e.g. app=replication')
    .requiredOption('--since <time>', 'window start: RFC 3339 or a duration back from now (1h)')
    .requiredOption('--until <time>', 'window end (inclusive): RFC 3339 or a duration back from now')
    .option('--geofence <name>', 'only flows this geofence decided')
    .addOption(new Option('--records <which>', 'which records of a flow count').choices(RECORD_CHOICES).default('sent'))
    .option('--key <key.pem>', 'signing key (Ed25519 or ECDSA P-256, PEM), repeatable to sign with several; with --server, omit it to have the relay sign', repeat, [] as string[])
    .requiredOption('--out <dir>', 'directory to write the attestation into')
    .option('--data-dir <dir>', 'read flows from embedded ClickHouse (chdb) in this directory')
    .option('--clickhouse-url <url>', 'read flows from this ClickHouse server')
    .option('--database <name>', 'ClickHouse database', 'cillion')
    .addOption(new Option('--server <address>', `ask a relay over gRPC (e.g. ${DEFAULT_SERVER})`).env(SERVER_ENV))
    .option('--resources <dir>', 'directory of Geofence resources, to record each applied fence\'s spec (local stores)')
    .option('--allow-incomplete', 'with --server: when the relay cannot reach some of its peers, sign what the others hold and name the missing relays (default: refuse)');
  addTlsOptions(exportCmd).action(async (o: ExportOptions) => {
    try {
      // A local store named on the command line wins over a relay set up in the environment.
      if ((o.dataDir !== undefined || o.clickhouseUrl !== undefined) && exportCmd.getOptionValueSource('server') === 'env') {
        delete o.server;
        dropEnvTls(exportCmd, o);
      }
      await runExport(o);
    } catch (e) {
      fail(e);
    }
  });
  trustOptions(
    cmd
      .command('verify')
      .description('Verify an attestation (DIR, ENVELOPE or a .tar of DIR as the web UI downloads it): signatures, types, totals, and the evidence if present')
      .argument('<target>', 'attestation directory, envelope file, or tar of an attestation directory')
      .option('--evidence <file>', 'the evidence file (default: flows.ndjson beside the envelope)')
      .option('--flow <n>', 'also print and check the inclusion proof of evidence line n (from 0)', nonNegativeInt),
  ).action(async (target: string, o: VerifyOptions) => {
    try {
      process.exitCode = await runVerify(target, o);
    } catch (e) {
      fail(e);
    }
  });
  cmd
    .command('sign')
    .description('Add signatures to an attestation\'s envelope (DIR or ENVELOPE), e.g. as a co-signer for --threshold')
    .argument('<target>', 'attestation directory or envelope file')
    .requiredOption('--key <key.pem>', 'signing key (Ed25519 or ECDSA P-256, PEM); repeatable', repeat, [] as string[])
    .action(async (target: string, o: { key: string[] }) => {
      try {
        await runSign(target, o);
      } catch (e) {
        fail(e);
      }
    });
  cmd
    .command('prove')
    .description('Write one flow\'s inclusion proof from an attestation\'s proof index, for verify-proof')
    .argument('<target>', 'attestation directory or envelope file')
    .requiredOption('--flow <n>', 'evidence line of the flow (from 0), e.g. the index of a violation in the report', nonNegativeInt)
    .option('--out <file>', 'write the proof here instead of standard output')
    .action(async (target: string, o: { flow: number; out?: string }) => {
      try {
        await runProve(target, o);
      } catch (e) {
        fail(e);
      }
    });
  trustOptions(
    cmd
      .command('verify-proof')
      .description('Check one flow\'s inclusion proof against the signed envelope alone (no evidence needed)')
      .argument('<proof>', 'proof file from `cillion attest prove`')
      .argument('<target>', 'attestation directory or envelope file'),
  ).action(async (proof: string, target: string, o: TrustOptions) => {
    try {
      process.exitCode = await runVerifyProof(proof, target, o);
    } catch (e) {
      fail(e);
    }
  });
  return cmd;
}
