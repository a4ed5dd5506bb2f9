// `cillion observe`, `status` and `list nodes` run as child processes against an in-process
// Observer server: a test double of the relay that serves a fixed flow list through the
// real flowMatcher.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { Flow, GeofenceVerdict, LostEventSource, Verdict, WanPathType } from '../../../proto/gen/flow/flow';
import { ObserverService } from '../../../proto/gen/observer/observer';
import type {
  GetFlowsRequest, GetFlowsResponse, GetNodesRequest, GetNodesResponse, ObserverServer, ServerStatusRequest, ServerStatusResponse,
} from '../../../proto/gen/observer/observer';
import { NodeState } from '../../../proto/gen/relay/relay';
import { FilterError, flowMatcher, validateFilters } from '../../../observer/filters';
import { sample } from '../proto/sample-flow';

const ROOT = resolve(__dirname, '../../..');

const flows: Flow[] = [
  Flow.fromPartial({ ...sample, uuid: 'f1' }),
  Flow.fromPartial({ ...sample, uuid: 'f2', verdict: Verdict.DROPPED, source: { namespace: 'billing', podName: 'api-7f', identity: 1234 } }),
  Flow.fromPartial({
    ...sample, uuid: 'f3', source: { namespace: 'billing', podName: 'api-7f', identity: 1234 },
    scionPath: { ...sample.scionPath, hops: [{ isdAs: '1-ff00:0:110', country: 'CH' }, { isdAs: '1-ff00:0:111', country: 'CH' }] },
    geofence: { verdict: GeofenceVerdict.GEOFENCE_COMPLIANT, name: 'eu-only', namespace: 'billing' },
  }),
  Flow.fromPartial({
    ...sample, uuid: 'f4', source: { namespace: 'archive', podName: 'backup-0', identity: 4321 }, scionPath: undefined, geofence: undefined,
    pathType: WanPathType.WAN_PATH_SRV6,
    srv6Path: {
      segments: ['fc00:0:1::1', 'fc00:0:2::1', 'fc00:0:3::1', 'fc00:0:202::200'], tenantId: 200,
      hops: [
        { sid: 'fc00:0:1::1', behavior: 'End', node: 'pe-zurich', country: 'CH' }, { sid: 'fc00:0:2::1', behavior: 'End', node: 'p-milan', country: 'IT' },
        { sid: 'fc00:0:3::1', behavior: 'End', node: 'p-vienna', country: 'AT' }, { sid: 'fc00:0:202::200', behavior: 'End.DT4', node: 'fra-node-2', country: '' },
      ],
    },
  }),
];

const relayDouble: Pick<ObserverServer, 'getFlows' | 'serverStatus' | 'getNodes'> = {
  getFlows(call: ServerWritableStream<GetFlowsRequest, GetFlowsResponse>) {
    const r = call.request;
    try {
      validateFilters(r.whitelist, r.blacklist);
    } catch (e) {
      if (!(e instanceof FilterError)) throw e;
      call.emit('error', { code: status.INVALID_ARGUMENT, details: e.message });
      return;
    }
    const match = flowMatcher(r.whitelist, r.blacklist);
    let picked = flows.filter(match);
    const n = Number(r.number);
    if (n > 0 && n < picked.length) picked = r.first ? picked.slice(0, n) : picked.slice(-n);
    for (const f of picked) call.write({ responseTypes: { $case: 'flow', value: f }, nodeName: f.nodeName, time: f.time });
    call.end();
  },
  serverStatus(_c: ServerUnaryCall<ServerStatusRequest, ServerStatusResponse>, done: sendUnaryData<ServerStatusResponse>) {
    done(null, {
      numFlows: 3n, maxFlows: 4096n, seenFlows: 12345n, uptimeNs: 7_200_000_000_000n, numConnectedNodes: 2,
      numUnavailableNodes: 1, unavailableNodes: ['fra-node-2'], version: 'cillion-test', flowsRate: 1.5,
      fingerprintMismatches: [{ nodeName: 'zrh-node-1', count: 1234n }, { nodeName: 'zrh-node-2', count: 0n }],
      flowHolders: [],
      lostFlows: [{ source: LostEventSource.PERF_EVENT_RING_BUFFER, reason: 'ring_reserve_failures', count: 3n }, { source: LostEventSource.OBSERVER_EVENTS_QUEUE, reason: 'export_drops', count: 0n }],
      loss: [
        { where: 'datapath', name: 'ring_reserve_failures', unit: 'packets', count: 3n, dataLoss: true, description: '' },
        { where: 'collector', name: 'packets_lost', unit: 'packets', count: 1200n, dataLoss: true, description: '' },
        { where: 'collector', name: 'reports_deferred', unit: 'reports', count: 7n, dataLoss: false, description: '' },
        { where: 'live_viewers', name: 'follower_queue', unit: 'flows', count: 1500n, dataLoss: false, description: '' },
      ],
    });
  },
  getNodes(_c: ServerUnaryCall<GetNodesRequest, GetNodesResponse>, done: sendUnaryData<GetNodesResponse>) {
    done(null, {
      nodes: [
        { name: 'zrh-node-1', version: 'v', address: '10.0.0.1:4244', state: NodeState.NODE_CONNECTED, tls: undefined, uptimeNs: 3_600_000_000_000n, numFlows: 100n, maxFlows: 4096n, seenFlows: 36000n },
        { name: 'fra-node-2', version: 'v', address: '10.0.0.2:4244', state: NodeState.NODE_UNAVAILABLE, tls: undefined, uptimeNs: 0n, numFlows: 0n, maxFlows: 0n, seenFlows: 0n },
      ],
    });
  },
};

interface Run { code: number; stdout: string; stderr: string }

function cillion(...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, TZ: 'UTC', NO_COLOR: '1' } }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('cli observe/status/list as child processes against a relay double', function () {
  this.timeout(60_000);
  let server: Server;
  let address: string;
  let dir: string;
  let socket: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-observe-'));
    socket = `unix://${join(dir, 'observer.sock')}`;
    server = new Server();
    server.addService(ObserverService, relayDouble);
    const bind = (addr: string) =>
      new Promise<number>((res, rej) => server.bindAsync(addr, ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    address = `127.0.0.1:${await bind('127.0.0.1:0')}`;
    await bind(socket);
  });

  after(() => {
    server?.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const uuids = (r: Run) => r.stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { flow: { uuid: string } }).flow.uuid);

  it('sends the filters the flags ask for and prints what the server returns', async () => {
    const all = await cillion('observe', '--server', address, '-o', 'json');
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(uuids(all), ['f1', 'f2', 'f3', 'f4']);
    assert.deepEqual(uuids(await cillion('observe', '--server', address, '-o', 'json', '--from-pod', 'billing/', '--not', '--verdict', 'DROPPED')), ['f3']);
    assert.deepEqual(uuids(await cillion('observe', '--server', address, '-o', 'json', '--through-country', 'DE', '--last', '1')), ['f2']);
    assert.deepEqual(uuids(await cillion('observe', '--server', address, '-o', 'json', '--geofence-verdict', 'compliant', '--pod', 'billing/api')), ['f3']);
  });

  it('selects SRv6 flows by path type, SID, locator and segment country, and prints their segments', async () => {
    const json = async (...args: string[]) => uuids(await cillion('observe', '--server', address, '-o', 'json', ...args));
    assert.deepEqual(await json('--path-type', 'srv6'), ['f4']);
    assert.deepEqual(await json('--not', '--path-type', 'srv6'), ['f1', 'f2', 'f3']);
    assert.deepEqual(await json('--through-sid', 'fc00:0:2::1'), ['f4']);
    assert.deepEqual(await json('--through-sid', 'fc00:0:202::/48'), ['f4']);
    assert.deepEqual(await json('--through-sid', 'fc00:0:4::/48'), []);
    assert.deepEqual(await json('--through-country', 'AT'), ['f4']);
    assert.deepEqual(await json('--through-country', 'CH'), ['f1', 'f2', 'f3', 'f4']);
    const r = await cillion('observe', '--server', address, '--path-type', 'srv6');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /archive\/backup-0:40512 \(ID:4321\) .* FORWARDED via srv6 fc00:0:1::1 \(pe-zurich CH\) > fc00:0:2::1 \(p-milan IT\) > fc00:0:3::1 \(p-vienna AT\) > fc00:0:202::200 \(End.DT4 vrf 200\)\n$/);
  });

  it('refuses a SID that is no IPv6 address with the server\'s INVALID_ARGUMENT, and a path type it does not know as a usage error', async () => {
    const r = await cillion('observe', '--server', address, '--through-sid', 'pe-zurich');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /through_sid: "pe-zurich" is neither an IPv6 SID nor a locator prefix/);
    const u = await cillion('observe', '--server', address, '--path-type', 'mpls');
    assert.notEqual(u.code, 0);
    assert.match(u.stderr, /--path-type: want scion or srv6, got "mpls"/);
  });

  it('prints compact lines over the node socket', async () => {
    const r = await cillion('observe', '--node', socket, '--identity', '1234', '--print-node-name');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'Jan  1 00:00:00.000 [zrh-node-1] billing/api-7f:40512 (ID:1234) -> 10.8.2.9:443 (ID:2) TCP SYN DROPPED via 1-ff00:0:110 CH > 1-ff00:0:120 DE > 2-ff00:0:220  UNVERIFIED(eu-only)',
      'Jan  1 00:00:00.000 [zrh-node-1] billing/api-7f:40512 (ID:1234) -> 10.8.2.9:443 (ID:2) TCP SYN FORWARDED via 1-ff00:0:110 CH > 1-ff00:0:111 CH  COMPLIANT(eu-only)',
    ]);
  });

  it('shows the server\'s INVALID_ARGUMENT for a bad filter and exits 1', async () => {
    const r = await cillion('observe', '--server', address, '--from-ip', '10.0.0.0/33');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /the server refused the request: source_ip: invalid CIDR "10\.0\.0\.0\/33"/);
  });

  it('says clearly when the server cannot be reached, and exits 1', async () => {
    for (const cmd of [['observe'], ['status'], ['list', 'nodes']]) {
      const r = await cillion(...cmd, '--server', 'unix://' + join(dir, 'nobody.sock'));
      assert.equal(r.code, 1, cmd.join(' '));
      assert.match(r.stderr, /cannot reach the Observer API at unix:\/\/.*nobody\.sock/);
    }
  });

  it('status prints a summary, or JSON', async () => {
    const r = await cillion('status', '--server', address);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      `Healthcheck (via ${address}): Ok`,
      'Version: cillion-test, up 2h',
      'Current/Max Flows: 3/4,096 (0.07%)',
      'Flows seen: 12,345',
      'Flows/s: 1.50',
      'Connected Nodes: 2/3',
      'Unavailable Nodes: 1',
      '  - fra-node-2',
      'Data loss (not in the store, nor in any stored meter):',
      '  datapath: ring reserve failures 3 packets',
      '  collector: packets lost 1,200 packets',
      'Not data loss (delayed, folded into later reports, or missed by a live viewer only):',
      '  collector: reports deferred 7 reports',
      '  live viewers: follower queue 1,500 flows',
      "Path fingerprint mismatches: 1,234 (flows whose sent fingerprint differs from the one their hop fields give)",
      '  - zrh-node-1: 1,234',
    ]);
    const j = JSON.parse((await cillion('status', '--server', address, '-o', 'json')).stdout) as Record<string, unknown>;
    assert.equal(j.seenFlows, '12345');
    assert.deepEqual(j.unavailableNodes, ['fra-node-2']);
  });

  it('list nodes prints a table, or JSON', async () => {
    const r = await cillion('list', 'nodes', '--server', address);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/).map((c) => c.trim()).filter(Boolean));
    assert.deepEqual(lines, [
      ['NAME', 'STATUS', 'AGE', 'FLOWS/S', 'CURRENT/MAX-FLOWS'],
      ['fra-node-2', 'Unavailable', '0s', '-', '0/0'],
      ['zrh-node-1', 'Connected', '60m', '10.00', '100/4096 (2.44%)'],
    ]);
    const j = JSON.parse((await cillion('list', 'nodes', '--server', address, '-o', 'json')).stdout) as { nodes: { name: string; state: string }[] };
    assert.deepEqual(j.nodes.map((n) => [n.name, n.state]), [['zrh-node-1', 'NODE_CONNECTED'], ['fra-node-2', 'NODE_UNAVAILABLE']]);
  });
});
