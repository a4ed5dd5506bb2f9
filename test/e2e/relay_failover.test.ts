// Three relay replicas (`cillion relay` processes, each with its own embedded store), eight
// synthetic collectors exporting to them in failover order. One replica is SIGKILLed
// mid-stream and restarted: its collectors fail over (the next replica takes their sessions
// over at what they had acknowledged) and, once it is back, retract there what it stored
// without acknowledging. Then no acknowledged flow is lost and none is stored twice across
// the three stores, each read alone (local scope), while another client was served all along.
// The replicas peer each other: `cillion observe --since` through each returns the same set,
// once each, and a follower on a surviving replica saw every flow once, with no gap.
// The victim's collectors reach it through a proxy that can stop passing its answers, so
// that it certainly stores batches it never acknowledges before it dies: the duplicates
// the retractions must delete.
import assert from 'node:assert/strict';
import { credentials } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Exporter } from '../../collector/exporter';
import type { Flow } from '../../proto/gen/flow/flow';
import { GetFlowsRequest, ObserverClient, ServerStatusRequest, type GetFlowsResponse } from '../../proto/gen/observer/observer';
import { localScope } from '../../relay/peers/scope';
import { AnswerProxy } from '../unit/relay/answer_proxy';
import { makeCorpus } from '../unit/relay/store/corpus';
import { cli, freePort, Proc, until } from './procs';

const RELAYS = 3;
const COLLECTORS = 8;
const ROUNDS = 40;
const FLOWS_PER_ROUND = 40;
const FAILOVER_MS = 1500;

interface Replica {
  name: string;
  port: number;
  dir: string;
  proc?: Proc;
}

async function startReplica(r: Replica, all: readonly Replica[]): Promise<void> {
  const peers = all.filter((p) => p !== r).flatMap((p) => ['--peer', `${p.name}=127.0.0.1:${p.port}`]);
  r.proc = new Proc(r.name, ['relay', '--no-ui', '--listen', `127.0.0.1:${r.port}`, '--data-dir', r.dir, '--name', r.name, '--metrics', '', '--peer-timeout', '3000', ...peers]);
  await r.proc.waitFor(/serving Observer and FlowExport/, 60_000);
}

/** Every flow uuid the replica stored, asked of it alone. */
function storedUuids(r: Replica, sinceS: bigint): Promise<string[]> {
  const client = new ObserverClient(`127.0.0.1:${r.port}`, credentials.createInsecure());
  const req = GetFlowsRequest.fromPartial({ since: { seconds: sinceS, nanos: 0 } });
  return new Promise<string[]>((resolve, reject) => {
    const out: string[] = [];
    const stream = client.getFlows(req, localScope());
    stream.on('data', (res: GetFlowsResponse) => {
      if (res.responseTypes?.$case === 'flow') out.push(res.responseTypes.value.uuid);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(out));
  }).finally(() => client.close());
}

describe('e2e: relay replicas, collector failover, exactly-once across stores', function () {
  this.timeout(240_000);
  const replicas: Replica[] = [];
  const exporters: Exporter[] = [];
  let proxy: AnswerProxy;

  before(async () => {
    for (let i = 0; i < RELAYS; i++) replicas.push({ name: `relay-${i}`, port: await freePort(), dir: mkdtempSync(join(tmpdir(), `cillion-replica-${i}-`)) });
    await Promise.all(replicas.map((r) => startReplica(r, replicas)));
    proxy = new AnswerProxy(replicas[0].port);
  });
  after(async () => {
    await Promise.all(exporters.map((e) => e.close(100)));
    proxy.close();
    for (const r of replicas) {
      await r.proc?.stop();
      rmSync(r.dir, { recursive: true, force: true });
    }
  });

  it('SIGKILL of a replica mid-stream loses no acknowledged flow and, after its retractions, stores none twice', async () => {
    const startS = BigInt(Math.floor(Date.now() / 1000) - 60);
    const victimAddress = `127.0.0.1:${await proxy.port}`;
    const errors: string[] = [];
    for (let k = 0; k < COLLECTORS; k++) {
      // Spread over the replicas: collector k starts at replica k mod 3, then the next ones.
      const order = Array.from({ length: RELAYS }, (_, j) => replicas[(k + j) % RELAYS]);
      exporters.push(new Exporter({
        target: order.map((r) => (r === replicas[0] ? victimAddress : `127.0.0.1:${r.port}`)),
        failoverMs: FAILOVER_MS,
        nodeName: `node-${k}`,
        clusterName: 'alpha',
        maxBacklogFlows: 100_000,
        batchFlows: 100,
        flushMs: 50,
        backoff: { initialMs: 100, maxMs: 500 },
        onError: (e) => errors.push(`node-${k}: ${e.message}`),
      }));
    }
    const onVictim = exporters.filter((_, k) => k % RELAYS === 0);
    await until('every collector connected', async () => exporters.map((e) => e.counters().connected), (c) => c.every(Boolean), 30_000);

    // A follower of the whole set through a surviving replica, from before the first flow.
    const follower = new ObserverClient(`127.0.0.1:${replicas[1].port}`, credentials.createInsecure());
    const followed = new Map<string, number>();
    const follow = follower.getFlows(GetFlowsRequest.fromPartial({ follow: true }));
    let followError: Error | undefined;
    follow.on('data', (res: GetFlowsResponse) => {
      if (res.responseTypes?.$case === 'flow') followed.set(res.responseTypes.value.uuid, (followed.get(res.responseTypes.value.uuid) ?? 0) + 1);
    });
    follow.on('error', (e: Error) => {
      if (!/Cancelled/.test(e.message)) followError = e;
    });

    // Another client of a surviving replica, asking all along.
    const reader = new ObserverClient(`127.0.0.1:${replicas[1].port}`, credentials.createInsecure());
    let served = 0;
    const failed: string[] = [];
    let reading = true;
    const readLoop = (async () => {
      while (reading) {
        await new Promise<void>((resolve) => reader.serverStatus(ServerStatusRequest.fromPartial({}), (err) => {
          if (err) failed.push(err.message);
          else served++;
          resolve();
        }));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const sent: Flow[] = [];
    const pushed = exporters.map(() => 0);
    let seed = 1;
    const round = (): void => {
      exporters.forEach((e, k) => {
        pushed[k] += FLOWS_PER_ROUND;
        for (const f of makeCorpus(FLOWS_PER_ROUND, seed++, Date.now())) {
          // Distinct uuids; the corpus brings many pods, namespaces, ports and paths.
          f.uuid = randomUUID();
          f.nodeName = `node-${k}`;
          sent.push(f);
          e.push(f);
        }
      });
    };
    const victim = replicas[0];
    let restarted: Promise<void> | undefined;
    for (let i = 0; i < ROUNDS; i++) {
      round();
      if (i === 10) {
        // Something acknowledged by the victim first, so that there is a position to hand over.
        await until('the victim acknowledged its collectors', async () => onVictim.map((e) => e.counters().ackedSequence), (a) => a.every((n) => n > 0n), 20_000);
        // Its answers stop; it stores on until it holds more than its collectors know of.
        proxy.muted = true;
        const ackedFlows = exporters.reduce((n, e, k) => (k % RELAYS === 0 ? n + pushed[k] - e.counters().backlogFlows : n), 0);
        await until('the victim storing unacknowledged batches', async () => (await storedUuids(victim, startS)).length, (n) => n > ackedFlows, 20_000);
        victim.proc!.child.kill('SIGKILL');
        await new Promise((r) => victim.proc!.child.once('exit', r));
      }
      if (i === 25) {
        proxy.muted = false;
        restarted = startReplica(victim, replicas);
      }
      // Paced: the stream goes on while the victim is away and while it comes back.
      await new Promise((r) => setTimeout(r, 100));
    }
    await restarted;
    const drained = await until(
      'every flow acknowledged and every retraction done',
      async () => exporters.map((e) => e.counters()),
      (cs) => cs.every((c) => c.backlogFlows === 0 && c.handoversPending === 0),
      60_000,
    );
    reading = false;
    await readLoop;
    reader.close();

    for (const c of drained) assert.equal(c.exportDrops, 0n, 'the collectors dropped nothing');
    assert.equal(drained.reduce((n, c) => n + c.flowsRejected, 0n), 0n, 'the relays refused no flow');
    for (const e of onVictim) {
      const c = e.counters();
      assert.ok(c.failovers >= 1, `${c.sessionId} failed over`);
      assert.equal(c.sessionResets, 0, 'the session was kept');
      assert.notEqual(c.relayName, 'relay-0', errors.join('\n'));
      assert.ok(c.retractions >= 1, 'retracted at the restarted replica');
    }
    // By the next replica, or by the one after it when that was too slow to answer in time.
    const takeovers = replicas.slice(1).reduce((n, r) => n + (r.proc!.log.match(/taken over from relay relay-0/g)?.length ?? 0), 0);
    assert.ok(takeovers >= onVictim.length, errors.join('\n'));
    assert.ok((victim.proc!.log.match(/retracted session/g)?.length ?? 0) >= onVictim.length, victim.proc!.log);

    const deleted = [...victim.proc!.log.matchAll(/deleted (\d+) flows/g)].reduce((n, m) => n + Number(m[1]), 0);
    assert.ok(deleted > 0, 'the victim held duplicates, and deleted them');
    const stored = await Promise.all(replicas.map((r) => storedUuids(r, startS)));
    const copies = new Map<string, number>();
    for (const list of stored) for (const u of list) copies.set(u, (copies.get(u) ?? 0) + 1);
    const missing = sent.filter((f) => !copies.has(f.uuid));
    const twice = [...copies].filter(([, n]) => n > 1);
    assert.equal(missing.length, 0, `${missing.length} of ${sent.length} flows lost`);
    assert.equal(twice.length, 0, `${twice.length} flows stored twice`);
    assert.equal(copies.size, sent.length);
    assert.equal(failed.length, 0, failed.join('\n'));

    // Through the fan-out: each replica answers for all three, every flow once.
    const since = new Date(Number(startS) * 1000).toISOString();
    for (const r of replicas) {
      const out = await cli(['observe', '--server', `127.0.0.1:${r.port}`, '--since', since, '-o', 'json']);
      assert.equal(out.code, 0, out.stderr);
      const uuids = out.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => (JSON.parse(l) as { flow?: { uuid: string } }).flow?.uuid).filter((u): u is string => u !== undefined);
      assert.equal(uuids.length, sent.length, `observe --since through ${r.name}: ${uuids.length} flows of ${sent.length}`);
      assert.equal(new Set(uuids).size, sent.length, `observe --since through ${r.name} shows every flow once`);
    }
    await until('the follower saw every flow', async () => followed.size, (n) => n >= sent.length, 30_000).catch(() => undefined);
    follow.cancel();
    follower.close();
    assert.equal(followError, undefined, followError?.message);
    const unseen = sent.filter((f) => !followed.has(f.uuid));
    assert.equal(unseen.length, 0, `the follower on ${replicas[1].name} missed ${unseen.length} of ${sent.length} flows`);
    const seenTwice = [...followed.values()].filter((n) => n > 1).length;
    assert.equal(seenTwice, 0, `the follower saw ${seenTwice} flows twice`);
    assert.ok(served > 10, `the other client was served ${served} times`);
    process.stdout.write(`      ${sent.length} flows from ${COLLECTORS} collectors; per replica ${stored.map((s) => s.length).join('/')}; ${takeovers} takeovers, ${drained.reduce((n, c) => n + c.retractions, 0)} retractions deleting ${deleted} duplicate flows; ${served} status calls served meanwhile; the follower saw ${followed.size}\n`);
  });
});
