// The relay part of npm run bench (bench/run.ts), end to end as a fleet of collectors meets
// it: a real `cillion relay` process (mutual TLS on loopback, embedded store, the example
// topology as its control plane, five geofences) and COLLECTORS synthetic collectors, each
// a process of its own, streaming a corpus of CILLION_BENCH_RELAY_FLOWS flows (default
// 1,000,000; bench/relay/corpus.ts) encoded before the clock starts. Measured:
// - flows per second stored (every batch acknowledged, so judged and durably stored) and
//   queryable (the relay's ServerStatus counts every flow sent in its store);
// - CPU of the relay and of the senders over that time: the machine's cores are shared, so
//   what the senders take the relay does not get;
// - the relay's peak resident memory (VmHWM);
// - GetFlows reading every stored flow back through the Observer API, and the same read
//   through Cillion's batched GetFlowBatches (observer/flow_batches.ts), in the same run;
// - stored bytes per flow after OPTIMIZE FINAL, over every table of the store, per column of
//   flows (on stderr), and with the same flows' uuids redrawn at random as older collectors sent them.
// CILLION_BENCH_RELAY_PROFILE=1 runs the relay under the V8 profiler and prints where its
// main thread spent the time; CILLION_BENCH_RELAY_ARGS adds flags to `cillion relay`.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata, type Client } from '@grpc/grpc-js';
import { connection } from '../cli/observe/client_tls';
import { CA_CERT, mintCa, mintCertificate, TLS_CERT, TLS_KEY } from '../cli/certs/mint';
import { GetFlowsRequest, GetFlowsResponse, ObserverClient, ObserverService, ServerStatusRequest } from '../proto/gen/observer/observer';
import { FlowHistoryService, GetFlowBatchesResponse } from '../proto/gen/observer/v1/flow_history';
import { openClickHouse } from '../relay/store/chdb';
import { UUID_V4_REPLACE } from '../relay/store/flow_columns';
import type { CollectorConfig, CollectorMessage } from './relay/collector';
import { TOPOLOGY } from './relay/corpus';
import { writeFences } from './relay/fences';
import { cpuSeconds, memoryBytes } from './relay/procstat';
import { batchUuids, responseUuid } from './relay/uuid_reader';
import { fmt, type Result } from './report';

const ROOT = join(__dirname, '..');
const TARGET_FLOWS_PER_S = 300_000;
const TARGET_BYTES_PER_FLOW = 40;
const TARGET_READ_FLOWS_PER_S = 200_000;
const COLLECTORS = 4;
/** Flows per batch at most, as the agent's exporter cuts them (cli/commands/agent.ts); 1 MiB encoded cuts them first. */
const BATCH_FLOWS = 16_384;
/** Unacknowledged flows per collector at most: the agent's default --export-buffer. */
const BACKLOG_FLOWS = 100_000;
const SERVER_NAME = 'localhost';
const DB = 'cillion';
const GET_FLOWS = ObserverService.getFlows.path;
const GET_FLOW_BATCHES = FlowHistoryService.getFlowBatches.path;

export function relayFlows(): number {
  const raw = process.env.CILLION_BENCH_RELAY_FLOWS;
  const n = raw === undefined || raw === '' ? 1_000_000 : Number(raw);
  if (!Number.isSafeInteger(n) || n < COLLECTORS) throw new Error(`CILLION_BENCH_RELAY_FLOWS=${raw}: a whole number of at least ${COLLECTORS}`);
  return n;
}

interface Tls {
  ca: string;
  dir: (name: string) => { cert: string; key: string };
}

function mintTls(dir: string, collectors: string[]): Tls {
  const caDir = join(dir, 'ca');
  mintCa({ out: caDir, name: 'bench-ca', days: 1, force: true });
  const out = (name: string) => join(dir, name);
  mintCertificate({ ca: caDir, out: out('relay'), name: 'relay', roles: [], dns: [SERVER_NAME], ips: ['127.0.0.1'], days: 1, force: true });
  mintCertificate({ ca: caDir, out: out('reader'), name: 'bench-reader', roles: ['reader'], days: 1, force: true });
  for (const c of collectors) mintCertificate({ ca: caDir, out: out(c), name: c, roles: ['collector'], days: 1, force: true });
  return { ca: join(caDir, CA_CERT), dir: (name) => ({ cert: join(out(name), TLS_CERT), key: join(out(name), TLS_KEY) }) };
}

interface RelayProcess {
  child: ChildProcess;
  address: string;
  log: () => string;
  stop(): Promise<void>;
}

async function startRelay(dir: string, tls: Tls, profileDir: string | undefined): Promise<RelayProcess> {
  const resources = join(dir, 'resources');
  mkdirSync(resources);
  writeFences(resources);
  const server = tls.dir('relay');
  const args = [
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
    '--require', 'tsx/cjs', join(ROOT, 'cli', 'main.ts'), 'relay', '--no-ui',
    '--listen', '127.0.0.1:0', '--metrics', '', '--data-dir', join(dir, 'store'),
    '--resources', resources, '--topology', TOPOLOGY,
    '--tls-cert', server.cert, '--tls-key', server.key, '--tls-client-ca', tls.ca,
    // Reading a million flows back is one GetFlows call; the default bound is 30 s.
    '--query-timeout-ms', '600000',
    // More relay flags, to compare settings in one sitting (e.g. --max-group-flows 1).
    ...(process.env.CILLION_BENCH_RELAY_ARGS ?? '').split(' ').filter((a) => a !== ''),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const tick = (): void => {
      const m = /serving Observer and FlowExport on (\S+)/.exec(log);
      if (m) resolve(m[1]);
      else if (child.exitCode !== null) reject(new Error(`relay exited ${child.exitCode}:\n${log}`));
      else if (Date.now() > deadline) reject(new Error(`relay not serving after 60 s:\n${log}`));
      else setTimeout(tick, 100);
    };
    tick();
  });
  return {
    child,
    address,
    log: () => log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export interface Collector {
  child: ChildProcess;
  ready: Promise<Extract<CollectorMessage, { kind: 'ready' }>>;
  done: Promise<Extract<CollectorMessage, { kind: 'done' }>>;
}

export function startCollector(cfg: CollectorConfig): Collector {
  const child = fork(join(__dirname, 'relay', 'collector.ts'), [], {
    execArgv: ['--require', 'tsx/cjs'],
    env: { ...process.env, CILLION_BENCH_COLLECTOR: JSON.stringify(cfg) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <K extends CollectorMessage['kind']>(kind: K) =>
    new Promise<Extract<CollectorMessage, { kind: K }>>((resolve, reject) => {
      const onMessage = (m: CollectorMessage): void => {
        if (m.kind === kind) resolve(m as Extract<CollectorMessage, { kind: K }>);
        else if (m.kind === 'failed') reject(new Error(`collector ${cfg.nodeName}: ${m.error}`));
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`collector ${cfg.nodeName} exited ${code} before "${kind}"`)));
    });
  const c = { child, ready: next('ready'), done: next('done') };
  // Whichever is not awaited must not surface as an unhandled rejection.
  c.ready.catch(() => undefined);
  c.done.catch(() => undefined);
  return c;
}

function storedCount(client: ObserverClient): Promise<number> {
  return new Promise((resolve, reject) =>
    client.serverStatus(ServerStatusRequest.fromPartial({}), new Metadata(), { deadline: Date.now() + 30_000 }, (e, s) => (e ? reject(e) : resolve(Number(s.numFlows)))),
  );
}

interface ReadBack {
  flows: number;
  distinct: number;
  ms: number;
  /** CPU seconds of the reading client (this process) and of the relay meanwhile. */
  clientCpu: number;
  relayCpu: number;
}

type ReadMode = 'uuid' | 'full' | 'batches-uuid' | 'batches-full';

/**
 * Every stored flow through GetFlows: how many came back, how many distinct uuids, in how
 * long. The uuid client reads only each response's uuid (uuid_reader.ts); the full one
 * decodes every response with ts-proto, as `hubble observe` would; the batches ones read
 * GetFlowBatches, the same two ways (`cillion observe` decodes every flow of every batch).
 */
function readBack(client: Client, relayPid: number, total: number, mode: ReadMode): Promise<ReadBack> {
  const start = performance.now();
  const clientCpu0 = process.cpuUsage();
  const relayCpu0 = cpuSeconds(relayPid);
  const uuids = new Set<string>();
  let flows = 0;
  const request = GetFlowsRequest.fromPartial({ number: BigInt(total) * 2n });
  const serialize = (r: GetFlowsRequest) => Buffer.from(GetFlowsRequest.encode(r).finish());
  const take = (r: GetFlowsResponse): void => {
    if (r.responseTypes?.$case !== 'flow') return;
    flows++;
    uuids.add(r.responseTypes.value.uuid);
  };
  return new Promise((resolve, reject) => {
    const onData: (b: Buffer) => void =
      mode === 'uuid'
        ? (b) => {
          const uuid = responseUuid(b);
          if (uuid === undefined) return;
          flows++;
          uuids.add(uuid);
        }
        : mode === 'full'
          ? (b) => take(GetFlowsResponse.decode(b))
          : mode === 'batches-uuid'
            ? (b) => {
              for (const uuid of batchUuids(b)) {
                flows++;
                uuids.add(uuid);
              }
            }
            : (b) => {
              for (const r of GetFlowBatchesResponse.decode(b).responses) take(r);
            };
    const path = mode === 'batches-uuid' || mode === 'batches-full' ? GET_FLOW_BATCHES : GET_FLOWS;
    const stream = client.makeServerStreamRequest(path, serialize, (b: Buffer) => b, request);
    stream.on('data', onData);
    stream.on('error', reject);
    stream.on('end', () => {
      const c = process.cpuUsage(clientCpu0);
      resolve({ flows, distinct: uuids.size, ms: performance.now() - start, clientCpu: (c.user + c.system) / 1e6, relayCpu: cpuSeconds(relayPid) - relayCpu0 });
    });
  });
}

interface Storage {
  tables: Map<string, number>;
  flowRows: number;
  /** The flows table's columns by bytes on disk, largest first. */
  columns: { name: string; bytes: number }[];
  /** The flows table's bytes with the same rows but random (v4) uuids, as older collectors send. */
  flowsWithV4: number;
}

/**
 * Bytes on disk per table of the store after every merge, the flows table's row count and
 * columns, and what the same flows take with random uuids: a copy of the table whose uuid
 * columns are redrawn as UUIDv4 (flow_columns.ts UUID_V4_REPLACE), merged the same way.
 */
async function storage(dataDir: string): Promise<Storage> {
  const ch = openClickHouse({ dataDir });
  try {
    const rows = async <T>(query: string): Promise<T[]> => (await ch.client.query({ query, format: 'JSONEachRow' })).json<T>();
    const command = (query: string) => ch.client.command({ query, clickhouse_settings: { allow_suspicious_low_cardinality_types: 1 } });
    const tables = await rows<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${DB}' AND engine LIKE '%MergeTree'`);
    for (const t of tables) await command(`OPTIMIZE TABLE ${DB}.\`${t.name}\` FINAL`);
    const parts = await rows<{ table: string; bytes: string; rows: string }>(
      `SELECT table, toString(sum(bytes_on_disk)) AS bytes, toString(sum(rows)) AS rows FROM system.parts WHERE active AND database = '${DB}' GROUP BY table`,
    );
    const columns = await rows<{ name: string; bytes: string }>(
      `SELECT name, toString(data_compressed_bytes) AS bytes FROM system.columns WHERE database = '${DB}' AND table = 'flows' AND data_compressed_bytes > 0 ORDER BY data_compressed_bytes DESC`,
    );
    await command(`CREATE TABLE ${DB}.flows_v4 AS ${DB}.flows`);
    await command(`INSERT INTO ${DB}.flows_v4 SELECT * REPLACE (${UUID_V4_REPLACE}) FROM ${DB}.flows`);
    await command(`OPTIMIZE TABLE ${DB}.flows_v4 FINAL`);
    const [v4] = await rows<{ bytes: string }>(`SELECT toString(sum(bytes_on_disk)) AS bytes FROM system.parts WHERE active AND database = '${DB}' AND table = 'flows_v4'`);
    return {
      tables: new Map(parts.map((p) => [p.table, Number(p.bytes)])),
      flowRows: Number(parts.find((p) => p.table === 'flows')?.rows ?? 0),
      columns: columns.map((c) => ({ name: c.name, bytes: Number(c.bytes) })),
      flowsWithV4: Number(v4.bytes),
    };
  } finally {
    await ch.close();
  }
}

/** The relay's main-thread profile, the functions with the most self time. */
function profileSummary(dir: string, top = 20): string {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return `no profile in ${dir}`;
  const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
  };
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, number>();
  for (const id of p.samples) {
    const f = byId.get(id);
    const name = f ? `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|work\/[^/]+\/[^/]+)\//, '')}:${f.lineNumber + 1}` : '?';
    self.set(name, (self.get(name) ?? 0) + 1);
  }
  const total = p.samples.length;
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, n]) => `  ${((100 * n) / total).toFixed(1).padStart(5)}%  ${name}`)
    .join('\n');
}

export async function relayBench(total = relayFlows()): Promise<Result[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cillion-bench-relay-'));
  const names = Array.from({ length: COLLECTORS }, (_, i) => `bench-node-${i + 1}`);
  const profileDir = process.env.CILLION_BENCH_RELAY_PROFILE === '1' ? join(dir, 'profile') : undefined;
  const collectors: Collector[] = [];
  let relay: RelayProcess | undefined;
  let reader: ObserverClient | undefined;
  try {
    const tls = mintTls(join(dir, 'certs'), names);
    relay = await startRelay(dir, tls, profileDir);
    const conn = connection(relay.address, { tls: true, tlsCaCertFiles: [tls.ca], tlsClientCertFile: tls.dir('reader').cert, tlsClientKeyFile: tls.dir('reader').key, tlsServerName: SERVER_NAME });
    reader = new ObserverClient(conn.address, conn.credentials, { ...conn.options, 'grpc.max_receive_message_length': -1 });
    const share = Math.ceil(total / COLLECTORS);
    names.forEach((nodeName, i) => {
      const flows = Math.min(share, total - i * share);
      const { cert, key } = tls.dir(nodeName);
      collectors.push(startCollector({ address: relay!.address, ca: tls.ca, cert, key, serverName: SERVER_NAME, nodeName, node: i, nodes: COLLECTORS, seed: 1000 + i, flows, batchFlows: BATCH_FLOWS, backlogFlows: BACKLOG_FLOWS }));
    });
    const ready = await Promise.all(collectors.map((c) => c.ready));
    const wireBytes = ready.reduce((n, r) => n + r.wireBytes, 0);

    const relayPid = relay.child.pid!;
    const relayCpu0 = cpuSeconds(relayPid);
    const start = Date.now();
    for (const c of collectors) c.child.send('go');
    const done = Promise.all(collectors.map((c) => c.done));
    let failure: Error | undefined;
    done.catch((e: Error) => (failure = e));
    // Queryable: the store, asked through the Observer API, holds every flow sent.
    let stored = 0;
    const deadline = start + Math.max(300_000, total);
    while (stored < total) {
      if (failure) throw failure;
      if (relay.child.exitCode !== null) throw new Error(`relay exited ${relay.child.exitCode}:\n${relay.log()}`);
      if (Date.now() > deadline) throw new Error(`${stored.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} flows stored after ${(Date.now() - start) / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
      stored = await storedCount(reader);
    }
    const queryableMs = Date.now() - start;
    const finished = await done;
    const relayCpu = cpuSeconds(relayPid) - relayCpu0;
    const sendersCpu = finished.reduce((n, f) => n + f.cpuSeconds, 0);
    const acked = Math.max(...finished.map((f) => f.lastAckMs)) - start;
    const rejected = finished.reduce((n, f) => n + f.rejected, 0);
    const ackLag = Math.max(...finished.map((f) => f.maxAckLagMs));
    const ingestPeak = memoryBytes(relayPid, 'VmHWM');
    if (stored !== total) throw new Error(`the store counts ${stored} flows, ${total} were sent`);
    if (rejected > 0) throw new Error(`the relay rejected ${rejected} flows of the corpus`);

    // Each batched read before its GetFlows twin: what the ingest leaves the engine to merge
    // meanwhile slows the first read of a pair, so the ratios err against the batches.
    const batchedUuid = await readBack(reader, relayPid, total, 'batches-uuid');
    const back = await readBack(reader, relayPid, total, 'uuid');
    const batched = await readBack(reader, relayPid, total, 'batches-full');
    const full = await readBack(reader, relayPid, total, 'full');
    for (const r of [back, full, batchedUuid, batched]) {
      if (r.flows !== total || r.distinct !== total) throw new Error(`GetFlows gave back ${r.flows} flows (${r.distinct} distinct uuids) of ${total} stored`);
    }
    const peak = memoryBytes(relayPid, 'VmHWM');
    reader.close();
    reader = undefined;
    await relay.stop();
    if (profileDir) process.stderr.write(`bench: relay main thread, self time (ingest and read-back):\n${profileSummary(profileDir)}\n`);
    relay = undefined;

    const disk = await storage(join(dir, 'store'));
    if (disk.flowRows !== total) throw new Error(`after OPTIMIZE FINAL the flows table has ${disk.flowRows} rows, ${total} were sent`);
    const onDisk = [...disk.tables.values()].reduce((a, b) => a + b, 0);
    const perTable = [...disk.tables.entries()].sort((a, b) => b[1] - a[1]).map(([t, b]) => `${t} ${fmt(b / total, 1)}`).join(', ');
    const withV4 = onDisk - (disk.tables.get('flows') ?? 0) + disk.flowsWithV4;
    process.stderr.write(`bench: flows columns on disk, B/flow: ${disk.columns.map((c) => `${c.name} ${fmt(c.bytes / total, 2)}`).join(', ')}\n`);

    const rate = (r: ReadBack): number => r.flows / (r.ms / 1000);
    const cpuPerFlow = (r: ReadBack): string => `CPU per flow: relay ${fmt((r.relayCpu * 1e6) / r.flows, 1)} us, client ${fmt((r.clientCpu * 1e6) / r.flows, 1)} us`;
    const storedRate = total / (acked / 1000);
    const queryableRate = total / (queryableMs / 1000);
    const seconds = queryableMs / 1000;
    const flowsText = total.toLocaleString('en-US');
    return [
      {
        what: `relay end to end over gRPC (mutual TLS, loopback): ${COLLECTORS} collector processes, ${flowsText} flows of ${fmt(wireBytes / total)} B (500 pods, 1,428 paths, 5 geofences), batches of up to ${BATCH_FLOWS} flows or 1 MiB as columns`,
        figures: `${fmt(storedRate)} flows/s judged and stored (all acked), ${fmt(queryableRate)} flows/s queryable (store count = sent); relay ${fmt(relayCpu / seconds, 2)} cores, senders ${fmt(sendersCpu / seconds, 2)} cores; relay peak RSS ${fmt(ingestPeak / 2 ** 20)} MiB; slowest ack ${fmt(ackLag / 1000, 1)} s after its batch was sent`,
        ratio: `${fmt(queryableRate / TARGET_FLOWS_PER_S, 3)}x target`,
        target: 'at least 300,000 flows/s',
        met: queryableRate >= TARGET_FLOWS_PER_S,
      },
      {
        what: `relay store: bytes on disk per flow after OPTIMIZE FINAL, every table (dictionaries and rollups included), same ${flowsText} flows`,
        figures: `${fmt(onDisk / total, 1)} B/flow (${perTable}); the same flows with random v4 uuids (collectors before UUIDv7) ${fmt(withV4 / total, 1)} B/flow`,
        ratio: `${fmt(TARGET_BYTES_PER_FLOW / (onDisk / total), 2)}x target`,
        target: `at most ${TARGET_BYTES_PER_FLOW} B/flow`,
        met: onDisk / total <= TARGET_BYTES_PER_FLOW,
      },
      {
        what: `relay read-back: GetFlows of all ${flowsText} stored flows through the Observer API (mutual TLS), every uuid once; the client reads only each response's uuid (a client that decodes every flow with ts-proto in brackets)`,
        figures: `${fmt(rate(back))} flows/s (${fmt(back.ms / 1000, 1)} s; ${cpuPerFlow(back)}) [full decode ${fmt(rate(full))} flows/s; ${cpuPerFlow(full)}]; relay peak RSS ${fmt(peak / 2 ** 20)} MiB by the end`,
        ratio: `${fmt(back.flows / (back.ms / 1000) / TARGET_READ_FLOWS_PER_S, 3)}x target`,
        target: 'at least 200,000 flows/s',
        met: back.flows / (back.ms / 1000) >= TARGET_READ_FLOWS_PER_S,
      },
      {
        what: `relay batched read-back: the same ${flowsText} flows through Cillion's GetFlowBatches (the same request, many GetFlows responses per message of at most 1 MiB; what \`cillion observe\` reads), every uuid once; the client reads only each response's uuid (a client that decodes every flow with ts-proto, as observe does, in brackets)`,
        figures: `${fmt(rate(batchedUuid))} flows/s (${fmt(batchedUuid.ms / 1000, 1)} s; ${cpuPerFlow(batchedUuid)}), ${fmt(rate(batchedUuid) / rate(back), 1)}x GetFlows [full decode ${fmt(rate(batched))} flows/s; ${cpuPerFlow(batched)}; ${fmt(rate(batched) / rate(full), 1)}x GetFlows full decode]`,
        ratio: `${fmt(rate(batchedUuid) / TARGET_READ_FLOWS_PER_S, 3)}x target`,
        target: 'at least 200,000 flows/s',
        met: rate(batchedUuid) >= TARGET_READ_FLOWS_PER_S,
      },
    ];
  } finally {
    reader?.close();
    for (const c of collectors) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await relay?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
