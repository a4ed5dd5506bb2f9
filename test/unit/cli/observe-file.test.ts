// `cillion observe --input-file` as a child process: every filter flag family over a file of
// realistic flows against predicates written from the flows themselves, every output format,
// the round trip through a relay's `-o json`, and the usage and input errors.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import pc from 'picocolors';
import type { Flow } from '../../../proto/gen/flow/flow';
import { GeofenceVerdict, Verdict } from '../../../proto/gen/flow/flow';
import { FlowPrinter, type Output } from '../../../cli/observe/format';
import { timestampJson } from '../../../cli/observe/time';
import { NodeBook } from '../../../observer/nodes';
import { readFlowLines } from '../../../observer/flow_lines';
import { FlowHub } from '../../../observer/hub';
import { fileCorpus, flowFile } from '../observer/file_corpus';
import { serveObserver } from '../observer/helpers';
import { pool } from './pool';

const ROOT = resolve(__dirname, '../../..');

interface Run { code: number; stdout: string; stderr: string }

function cillion(args: string[], stdin?: string): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, TZ: 'UTC', NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

const uuidsIn = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { flow: { uuid: string } }).flow.uuid);

function printed(flows: Flow[], output: Output): string {
  const lines: string[] = [];
  const printer = new FlowPrinter({ output, colors: pc.createColors(false), printNodeName: false, timeFormat: 'StampMilli' }, (l) => lines.push(l));
  for (const f of flows) printer.print({ responseTypes: { $case: 'flow', value: f }, nodeName: f.nodeName, time: f.time });
  printer.end();
  return lines.map((l) => `${l}\n`).join('');
}

describe('cli observe --input-file (child processes)', function () {
  this.timeout(180_000);
  const flows = fileCorpus(200);
  const all = (pick: (f: Flow) => boolean) => flows.filter(pick).map((f) => f.uuid);
  const hops = (f: Flow) => f.scionPath?.hops ?? [];
  const l4 = (f: Flow) => f.l4?.protocol;
  const ports = (f: Flow) => {
    const p = l4(f);
    return p?.$case === 'TCP' || p?.$case === 'UDP' ? [p.value.sourcePort, p.value.destinationPort] : [];
  };
  const labels = (f: Flow) => [...(f.source?.labels ?? []), ...(f.destination?.labels ?? [])];
  const at = (i: number) => timestampJson(flows[i].time as NonNullable<Flow['time']>);

  // [flags, the uuids they must select]; every filter case reads with --all.
  const cases: [string[], string[]][] = [
    [['--uuid', flows[17].uuid], [flows[17].uuid]],
    [['--from-pod', 'shop/che'], all((f) => f.source?.namespace === 'shop' && !!f.source.podName.startsWith('che'))],
    [['--to-pod', 'payments/'], all((f) => f.destination?.namespace === 'payments')],
    [['--pod', 'kube-system/coredns'], all((f) => [f.source, f.destination].some((e) => e?.namespace === 'kube-system' && e.podName.startsWith('coredns')))],
    [['--namespace', 'shop'], all((f) => f.source?.namespace === 'shop' || f.destination?.namespace === 'shop')],
    [['--from-namespace', 'payments', '--to-namespace', 'shop'], all((f) => f.source?.namespace === 'payments' && f.destination?.namespace === 'shop')],
    [['--label', 'app=ledger'], all((f) => labels(f).includes('k8s:app=ledger'))],
    [['--to-label', 'app.kubernetes.io/name in (ledger,coredns)'], all((f) => ['ledger', 'coredns'].some((a) => !!f.destination?.labels.includes(`k8s:app.kubernetes.io/name=${a}`)))],
    [['--ip', '10.1.2.0/24'], all((f) => !!f.IP && [f.IP.source, f.IP.destination].some((a) => a.startsWith('10.1.2.')))],
    [['--to-ip', 'fd00::1:3'], all((f) => f.IP?.destination === 'fd00::1:3')],
    [['--identity', '1011'], all((f) => f.source?.identity === 1011 || f.destination?.identity === 1011)],
    [['--protocol', 'udp'], all((f) => l4(f)?.$case === 'UDP')],
    [['--port', '443'], all((f) => ports(f).includes(443))],
    [['--verdict', 'dropped'], all((f) => f.verdict === Verdict.DROPPED)],
    [['--type', 'trace:to-stack'], all((f) => f.eventType?.type === 4 && f.eventType.subType === 3)],
    [['-t', 'drop'], all((f) => f.eventType?.type === 1)],
    [['--node-name', 'node-c'], all((f) => f.nodeName === 'node-c')],
    [['--protocol', 'tcp', '--not', '--verdict', 'DROPPED'], all((f) => l4(f)?.$case === 'TCP' && f.verdict !== Verdict.DROPPED)],
    [['--src-ia', '1-ff00:0:111'], all((f) => f.scionPath?.srcIa === '1-ff00:0:111')],
    [['--dst-ia', '2-0'], all((f) => !!f.scionPath?.dstIa.startsWith('2-'))],
    [['--through-ia', '3-ff00:0:310'], all((f) => hops(f).some((h) => h.isdAs === '3-ff00:0:310'))],
    [['--through-isd', '3'], all((f) => hops(f).some((h) => h.isdAs.startsWith('3-')))],
    [['--through-country', 'US'], all((f) => hops(f).some((h) => h.country === 'US'))],
    [['--path', 'b7e2'], all((f) => !!f.scionPath?.fingerprint.startsWith('b7e2'))],
    [['--geofence-verdict', 'violation'], all((f) => f.geofence?.verdict === GeofenceVerdict.GEOFENCE_VIOLATION)],
    [['--geofence', 'payments/dach'], all((f) => f.geofence?.name === 'dach' && f.geofence.namespace === 'payments')],
    [['--not', '--geofence', 'eu-only'], all((f) => f.geofence?.name !== 'eu-only')],
  ];
  // Selection without --all: [flags, the uuids].
  const selections: [string[], string[]][] = [
    [[], flows.slice(-20).map((f) => f.uuid)],
    [['--last', '7'], flows.slice(-7).map((f) => f.uuid)],
    [['--first', '4'], flows.slice(0, 4).map((f) => f.uuid)],
    [['--since', at(50), '--until', at(60)], flows.slice(50, 61).map((f) => f.uuid)],
    [['--since', at(50), '--last', '2', '--protocol', 'udp'], flows.slice(50).filter((f) => l4(f)?.$case === 'UDP').slice(-2).map((f) => f.uuid)],
  ];

  let dir: string;
  let file: string;
  let runs: Run[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-observe-file-'));
    file = join(dir, 'flows.json');
    writeFileSync(file, flowFile(flows));
    runs = await pool(
      [
        ...cases.map(([flags]) => () => cillion(['observe', '--input-file', file, '--all', '-o', 'json', ...flags])),
        ...selections.map(([flags]) => () => cillion(['observe', '--input-file', file, '-o', 'json', ...flags])),
      ],
      3,
    );
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  cases.forEach(([flags, want], i) => {
    it(`${flags.join(' ')} selects what it means`, () => {
      const r = runs[i];
      assert.equal(r.code, 0, r.stderr);
      assert.ok(want.length > 0 && want.length < flows.length, 'the case selects a proper subset');
      assert.deepEqual(uuidsIn(r.stdout), want);
    });
  });

  selections.forEach(([flags, want], i) => {
    it(`${flags.join(' ') || '(no selection flags)'} picks the flows the relay would`, () => {
      const r = runs[cases.length + i];
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(uuidsIn(r.stdout), want);
    });
  });

  it('prints every output format as for flows from a server', async () => {
    const outputs: Output[] = ['compact', 'dict', 'table', 'json', 'jsonpb'];
    const got = await pool(outputs.map((o) => () => cillion(['observe', '--input-file', file, '--last', '3', '--color', 'never', '-o', o])), 3);
    outputs.forEach((o, i) => {
      assert.equal(got[i].code, 0, got[i].stderr);
      assert.equal(got[i].stdout, printed(flows.slice(-3), o), o);
    });
  });

  it('round trip: a relay\'s `observe -o json` read back with --input-file - is lossless', async () => {
    const hub = new FlowHub({ capacity: flows.length });
    hub.publish(flows);
    const served = await serveObserver({ hub, nodes: new NodeBook(), status: () => ({ version: 't', uptimeNs: 0n }) });
    let fromRelay: Run;
    try {
      fromRelay = await cillion(['observe', '--server', served.address, '--all', '-o', 'json']);
    } finally {
      await served.close();
    }
    assert.equal(fromRelay.code, 0, fromRelay.stderr);
    const back = await readFlowLines(Readable.from([fromRelay.stdout]));
    assert.deepEqual(back.flows, flows);
    const again = await cillion(['observe', '--input-file', '-', '--all', '-o', 'json'], fromRelay.stdout);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, fromRelay.stdout);
    const pb = await cillion(['observe', '--input-file', '-', '--all', '-o', 'jsonpb'], fromRelay.stdout);
    const viaPb = await cillion(['observe', '--input-file', '-', '--all', '-o', 'json'], pb.stdout);
    assert.equal(viaPb.stdout, fromRelay.stdout);
  });

  it('names a malformed line, still answers from every good one, and exits 1', async () => {
    const good = flowFile(flows.slice(0, 4)).split('\n');
    const text = [good[0], good[1], '{"flow": {"uuid": "x", "time": "not a time"}}', good[2], 'garbage', good[3], ''].join('\n');
    const r = await cillion(['observe', '--input-file', '-', '--all', '-o', 'json'], text);
    assert.equal(r.code, 1);
    assert.deepEqual(uuidsIn(r.stdout), flows.slice(0, 4).map((f) => f.uuid));
    assert.match(r.stderr, /<stdin>:3: malformed line: bad field value/);
    assert.match(r.stderr, /<stdin>:5: malformed line: not JSON/);
  });

  it('refuses --follow, --server and --node with --input-file as usage errors (exit 2)', async () => {
    const got = await pool(
      [['--follow'], ['--server', '127.0.0.1:4245'], ['--node']].map((extra) => () => cillion(['observe', '--input-file', file, ...extra])),
      3,
    );
    for (const r of got) {
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /option '--input-file <file>' cannot be used with option/);
    }
  });

  it('exits 1 with a clear message for a missing file and for a bad filter', async () => {
    const [missing, badFilter] = await pool(
      [() => cillion(['observe', '--input-file', join(dir, 'nope.json')]), () => cillion(['observe', '--input-file', file, '--from-ip', '10.0.0.0/33'])],
      2,
    );
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope\.json: ENOENT/);
    assert.equal(badFilter.code, 1);
    assert.equal(badFilter.stdout, '');
    assert.match(badFilter.stderr, /invalid request: source_ip: invalid CIDR "10\.0\.0\.0\/33"/);
  });
});
