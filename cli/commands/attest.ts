// `cillion attest`: signed compliance attestations of where a workload's traffic went.
//   export  selects flows (source label selector, time window, optional geofence) from a
//           store (--data-dir, --clickhouse-url) or a relay (--server), and writes DIR with
//           flows.ndjson (evidence), attestation.dsse.json (signed in-toto statement) and
//           report.md.
//   verify  checks an attestation and, with its evidence, recomputes everything.
// Exit codes: 0 success/verified, 1 failure/verification failed, 2 usage.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { version } from '../../package.json';
import { hostname } from 'node:os';
import { DirectorySource } from '../../operator/sources/directory';
import type { Geofence } from '../../operator/resources/geofence';
import { AttestClient, type ExportResponse } from '../../proto/gen/attest/v1/attest';
import { parseEnvelope } from '../../relay/attest/dsse';
import { exportAttestation, ExportUsageError, RECORD_CHOICES, storeIdentity, type RecordChoice } from '../../relay/attest/export';
import { createEvidenceFile, locate, readEvidence, writeEnvelopeAndReport } from '../../relay/attest/files';
import { flowInclusion, type FlowInclusion } from '../../relay/attest/inclusion';
import { KeyError, keyFromFile, keyId, privateKeyFromPem, publicKeyFromPem } from '../../relay/attest/keys';
import { renderReport } from '../../relay/attest/report';
import { signPayload, signStatement } from '../../relay/attest/sign';
import type { Statement } from '../../relay/attest/statement';
import { verifyAttestation, type VerifyResult } from '../../relay/attest/verify';
import { parseLabelSelector } from '../../observer/filters/label_selector';
import { openStore } from '../../relay/store/store';
import { describeError, DEFAULT_SERVER } from '../observe/client';
import { addTlsOptions, connection, dropEnvTls, SERVER_ENV, TlsFlagError, type TlsFlags } from '../observe/client_tls';
import { parseTimeArg } from '../observe/time';

class UsageError extends Error {}

interface ExportOptions extends TlsFlags {
  selector: string;
  since: string;
  until: string;
  geofence?: string;
  records: RecordChoice;
  key?: string;
  out: string;
  dataDir?: string;
  clickhouseUrl?: string;
  database: string;
  server?: string;
  resources?: string;
}

interface VerifyOptions {
  key: string[];
  evidence?: string;
  flow?: number;
  output: 'text' | 'json';
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
  return `wrote ${dir}: ${t.flows} flows (${t.packets} packets, ${t.bytes} bytes), ${t.violation} violations, ${t.unverified} unverified; subject ${st.subject[0].digest.sha256}\n`;
}

async function exportLocal(o: ExportOptions, since: Date, until: Date, key: KeyObject): Promise<Statement> {
  const fences = await fencesFrom(o.resources);
  const store = await openStore({ dataDir: o.dataDir, url: o.clickhouseUrl, database: o.database });
  const evidence = await createEvidenceFile(o.out);
  const progress = progressLine();
  try {
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
      evidence.sink,
    );
    await evidence.close();
    await writeEnvelopeAndReport(o.out, signStatement(statement, [key]), renderReport(statement, { keyid: keyId(key) }));
    return statement;
  } finally {
    progress.done();
    await evidence.close().catch(() => undefined);
    await store.close();
  }
}

async function exportRemote(o: ExportOptions, server: string, since: Date, until: Date, key: KeyObject | undefined): Promise<Statement> {
  const c = connection(server, o);
  const client = new AttestClient(c.address, c.credentials, c.options);
  const evidence = await createEvidenceFile(o.out);
  const progress = progressLine();
  const ms = (d: Date) => ({ seconds: BigInt(Math.floor(d.getTime() / 1000)), nanos: (d.getTime() % 1000) * 1_000_000 });
  let payload: Buffer | undefined;
  let envelope: Buffer | undefined;
  let report = '';
  try {
    const call = client.export({ selector: o.selector, since: ms(since), until: ms(until), geofence: o.geofence ?? '', records: o.records, sign: key === undefined });
    for await (const msg of call as AsyncIterable<ExportResponse>) {
      const item = msg.item;
      if (!item) continue;
      if (item.$case === 'progress') progress.update(Number(item.value.flows));
      else if (item.$case === 'evidenceChunk') await evidence.sink(Buffer.from(item.value));
      else if (item.$case === 'statement') payload = Buffer.from(item.value);
      else if (item.$case === 'envelope') envelope = Buffer.from(item.value);
      else report = item.value;
    }
    await evidence.close();
    if (!payload) throw new Error(`${server} ended the export without a statement`);
    const env = key ? signPayload(payload, [key]) : envelope ? parseEnvelope(envelope) : undefined;
    if (!env) throw new Error(`${server} sent no signed envelope`);
    const statement = JSON.parse(payload.toString('utf8')) as Statement;
    await writeEnvelopeAndReport(o.out, env, key ? renderReport(statement, { keyid: keyId(key) }) : report);
    return statement;
  } catch (e) {
    throw new Error(describeError(e, server).replace('the Observer API', 'the relay'));
  } finally {
    progress.done();
    await evidence.close().catch(() => undefined);
    client.close();
  }
}

async function runExport(o: ExportOptions): Promise<void> {
  const sources = [o.dataDir, o.clickhouseUrl, o.server].filter((x) => x !== undefined).length;
  if (sources !== 1) throw new UsageError('give exactly one of --data-dir, --clickhouse-url or --server');
  if (!o.server && !o.key) throw new UsageError('--key is required unless --server names a relay that signs');
  if (!o.server && o.tls) throw new UsageError('--tls goes with --server');
  try {
    parseLabelSelector(o.selector);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const now = new Date();
  const since = timeArg(o.since, '--since', now);
  const until = timeArg(o.until, '--until', now);
  const key = o.key ? await keyFromFile(o.key, privateKeyFromPem) : undefined;
  const statement = o.server ? await exportRemote(o, o.server, since, until, key) : await exportLocal(o, since, until, key as KeyObject);
  process.stdout.write(summary(statement, o.out));
}

function printInclusion(inc: FlowInclusion, subject: string | undefined): string[] {
  return [
    `flow ${inc.index} of ${inc.size}: ${inc.line}`,
    `  leaf hash ${inc.leafHash}`,
    ...inc.proof.map((p, i) => `  proof[${i}] ${p}`),
    `  root ${inc.root} ${inc.root === subject ? '= subject digest' : '!= subject digest'}`,
  ];
}

async function runVerify(target: string, o: VerifyOptions): Promise<number> {
  if (o.key.length === 0) throw new UsageError('--key is required');
  const keys = await Promise.all(o.key.map((k) => keyFromFile(k, publicKeyFromPem)));
  let where;
  try {
    where = await locate(target, o.evidence);
  } catch (e) {
    throw new UsageError(`${target}: ${(e as Error).message}`);
  }
  if (o.flow !== undefined && !where.evidence) throw new UsageError('--flow needs the evidence (--evidence FILE or a DIR holding flows.ndjson)');
  const envelope = await readFile(where.envelope).catch((e: Error) => {
    throw new UsageError(`cannot read ${where.envelope}: ${e.message}`);
  });
  const result: VerifyResult = await verifyAttestation({ envelope, keys, evidence: where.evidence ? readEvidence(where.evidence) : undefined });
  const subject = result.statement?.subject?.[0]?.digest?.sha256;
  let inclusion: FlowInclusion | undefined;
  if (o.flow !== undefined && where.evidence) {
    try {
      inclusion = await flowInclusion(readEvidence(where.evidence), o.flow);
      if (inclusion.root !== subject) result.failures.push({ check: 'inclusion', message: `flow ${o.flow}'s proof leads to ${inclusion.root}, not the subject digest` });
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      result.failures.push({ check: 'inclusion', message: e.message });
    }
    result.ok = result.failures.length === 0;
  }
  if (o.output === 'json') {
    process.stdout.write(`${JSON.stringify({ ok: result.ok, keyid: result.keyid ?? null, subject: subject ?? null, evidence: where.evidence ?? null, flows: result.evidenceFlows ?? null, failures: result.failures, inclusion: inclusion ?? null })}\n`);
  } else {
    const lines: string[] = [];
    if (result.ok) {
      const p = result.statement?.predicate;
      lines.push(`VERIFIED ${where.envelope}: signed by ${result.keyid}`);
      if (p) lines.push(`  ${p.selector}, ${p.window.from} to ${p.window.to}: ${p.totals.flows} flows, ${p.totals.violation} violations, ${p.totals.unverified} unverified`);
      lines.push(where.evidence ? `  evidence ${where.evidence}: ${result.evidenceFlows} flows, Merkle root = subject digest ${subject}` : '  evidence not checked (none given or found)');
    } else {
      lines.push(`FAILED ${where.envelope}: ${result.failures.length} check${result.failures.length === 1 ? '' : 's'} failed`);
      for (const f of result.failures) lines.push(`  ✗ ${f.check}: ${f.message}`);
    }
    if (inclusion) lines.push(...printInclusion(inclusion, subject));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return result.ok ? 0 : 1;
}

function nonNegativeInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function fail(e: unknown): void {
  const usage = e instanceof UsageError || e instanceof ExportUsageError || e instanceof KeyError || e instanceof TlsFlagError;
  process.stderr.write(`cillion attest: ${(e as Error).message}\n`);
  process.exitCode = usage ? 2 : 1;
}

export function attestCommand(): Command {
  const cmd = new Command('attest').description('Signed compliance attestations of where workloads\' traffic went');
  const exportCmd = cmd
    .command('export')
    .description('Export a signed attestation (DSSE in-toto statement), its flow evidence and a report into DIR')
    .requiredOption('--selector <selector>', 'label selector of the source workloads, e.g. app=replication')
    .requiredOption('--since <time>', 'window start: RFC 3339 or a duration back from now (1h)')
    .requiredOption('--until <time>', 'window end (inclusive): RFC 3339 or a duration back from now')
    .option('--geofence <name>', 'only flows this geofence decided')
    .addOption(new Option('--records <which>', 'which records of a flow count').choices(RECORD_CHOICES).default('sent'))
    .option('--key <key.pem>', 'signing key (Ed25519 or ECDSA P-256, PEM); with --server, omit it to have the relay sign')
    .requiredOption('--out <dir>', 'directory to write the attestation into')
    .option('--data-dir <dir>', 'read flows from embedded ClickHouse (chdb) in this directory')
    .option('--clickhouse-url <url>', 'read flows from this ClickHouse server')
    .option('--database <name>', 'ClickHouse database', 'cillion')
    .addOption(new Option('--server <address>', `ask a relay over gRPC (e.g. ${DEFAULT_SERVER})`).env(SERVER_ENV))
    .option('--resources <dir>', 'directory of Geofence resources, to record each applied fence\'s spec (local stores)');
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
  cmd
    .command('verify')
    .description('Verify an attestation (DIR or ENVELOPE): signature, types, totals, and the evidence if present')
    .argument('<target>', 'attestation directory or envelope file')
    .requiredOption('--key <pub.pem>', 'public key (or private key) to verify with; repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--evidence <file>', 'the evidence file (default: flows.ndjson beside the envelope)')
    .option('--flow <n>', 'also print and check the inclusion proof of evidence line n (from 0)', nonNegativeInt)
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (target: string, o: VerifyOptions) => {
      try {
        process.exitCode = await runVerify(target, o);
      } catch (e) {
        fail(e);
      }
    });
  return cmd;
}
