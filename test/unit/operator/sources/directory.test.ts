import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DirectorySource } from '../../../../operator/sources/directory';
import type { ResourceEvent } from '../../../../resources/source';
import { keyString } from '../../../../resources/resource';

const remote = (name: string, isdAS: string) => `apiVersion: cillion.io/v1alpha1
kind: RemoteCluster
metadata:
  name: ${name}
spec:
  isdAS: ${isdAS}
  prefixes: [10.165.0.0/16]
`;

function summary(e: ResourceEvent): string {
  if (e.type === 'problem') return `problem ${e.origin}`;
  if (e.type === 'delete') return `delete ${keyString(e.key)}`;
  return `${e.type} ${keyString(e.entry.key)} gen${e.entry.generation} ${e.entry.result.ok ? 'valid' : 'invalid'}`;
}

async function until(events: ResourceEvent[], n: number, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (events.length < n) {
    if (Date.now() > end) assert.fail(`waited for ${n} events, got ${events.map(summary).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('operator/sources DirectorySource', () => {
  let dir: string;
  const sources: DirectorySource[] = [];
  const open = (opts = {}) => {
    const s = new DirectorySource(dir, { debounceMs: 20, rescanMs: 0, ...opts });
    sources.push(s);
    return s;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-dir-'));
  });
  afterEach(async () => {
    for (const s of sources.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists multi-document files and replays them as adds to a watcher', async () => {
    writeFileSync(join(dir, 'a.yaml'), `${remote('frankfurt', '65-2:0:20')}---\n${remote('zurich', '64-2:0:20')}`);
    writeFileSync(join(dir, 'notes.txt'), 'not yaml');
    const s = open();
    assert.deepEqual((await s.list()).map((e) => [keyString(e.key), e.origin, e.generation]), [
      ['RemoteCluster/frankfurt', 'a.yaml#0', 1],
      ['RemoteCluster/zurich', 'a.yaml#1', 1],
    ]);
    const events: ResourceEvent[] = [];
    s.watch((e) => events.push(e));
    await until(events, 2);
    assert.deepEqual(events.map(summary), ['add RemoteCluster/frankfurt gen1 valid', 'add RemoteCluster/zurich gen1 valid']);
  });

  it('follows file changes through fs.watch: add, update (generation bump), delete', async () => {
    writeFileSync(join(dir, 'a.yaml'), remote('frankfurt', '65-2:0:20'));
    const s = open();
    const events: ResourceEvent[] = [];
    s.watch((e) => events.push(e));
    await until(events, 1);
    writeFileSync(join(dir, 'b.yaml'), remote('zurich', '64-2:0:20'));
    await until(events, 2);
    writeFileSync(join(dir, 'a.yaml'), remote('frankfurt', '65-2:0:21'));
    await until(events, 3);
    unlinkSync(join(dir, 'b.yaml'));
    await until(events, 4);
    assert.deepEqual(events.map(summary), [
      'add RemoteCluster/frankfurt gen1 valid',
      'add RemoteCluster/zurich gen1 valid',
      'update RemoteCluster/frankfurt gen2 valid',
      'delete RemoteCluster/zurich',
    ]);
  });

  it('a broken file is a problem event, keeps its last good resources, and others keep flowing', async () => {
    writeFileSync(join(dir, 'a.yaml'), remote('frankfurt', '65-2:0:20'));
    const s = open();
    const events: ResourceEvent[] = [];
    s.watch((e) => events.push(e));
    await until(events, 1);
    writeFileSync(join(dir, 'a.yaml'), 'kind: [unclosed\n');
    writeFileSync(join(dir, 'b.yaml'), `${remote('zurich', '64-2:0:20')}---\nkind: Gadget\n---\n${remote('bad', 'nowhere')}`);
    await s.rescan();
    await s.rescan();
    const after = events.slice(1).map(summary).sort();
    assert.deepEqual(after, ['add RemoteCluster/bad gen1 invalid', 'add RemoteCluster/zurich gen1 valid', 'problem a.yaml', 'problem b.yaml#1']);
    const bad = events.find((e) => e.type === 'add' && e.entry.key.name === 'bad');
    assert.ok(bad?.type === 'add' && !bad.entry.result.ok);
    assert.deepEqual(bad.entry.result.problems.map((p) => p.path), ['spec.isdAS']);
    assert.deepEqual((await s.list()).map((e) => e.key.name).sort(), ['bad', 'frankfurt', 'zurich']);
  });

  it('generations survive a restart and bump only when the spec changed meanwhile', async () => {
    writeFileSync(join(dir, 'a.yaml'), remote('frankfurt', '65-2:0:20'));
    writeFileSync(join(dir, 'b.yaml'), remote('zurich', '64-2:0:20'));
    const s1 = open();
    await s1.list();
    writeFileSync(join(dir, 'a.yaml'), remote('frankfurt', '65-2:0:21'));
    await s1.rescan();
    await s1.close();
    writeFileSync(join(dir, 'b.yaml'), remote('zurich', '64-2:0:21'));
    const s2 = open();
    const gens = Object.fromEntries((await s2.list()).map((e) => [e.key.name, e.generation]));
    assert.deepEqual(gens, { frankfurt: 2, zurich: 2 });
  });

  it('writes status beside the resources, never into the user files', async () => {
    const text = remote('frankfurt', '65-2:0:20');
    writeFileSync(join(dir, 'a.yaml'), text);
    const s = open();
    const [entry] = await s.list();
    const status = {
      observedGeneration: 1,
      conditions: [{ type: 'Valid' as const, status: 'True' as const, reason: 'Resolved', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 }],
    };
    await s.writeStatus(entry!.key, status);
    assert.equal(s.statusFile(entry!.key), join(dir, '.status', 'remoteclusters', 'frankfurt.yaml'));
    const doc = parse(readFileSync(s.statusFile(entry!.key), 'utf8')) as { kind: string; metadata: { name: string }; status: unknown };
    assert.deepEqual([doc.kind, doc.metadata.name, doc.status], ['RemoteCluster', 'frankfurt', status]);
    assert.deepEqual(await s.readStatus(entry!.key), status);
    assert.equal(readFileSync(join(dir, 'a.yaml'), 'utf8'), text);
    await s.rescan();
    assert.equal((await s.list())[0]!.generation, 1);
  });

  it('the periodic rescan catches changes without fs.watch events', async () => {
    const s = open({ rescanMs: 50, debounceMs: 60_000 });
    const events: ResourceEvent[] = [];
    s.watch((e) => events.push(e));
    await s.list();
    writeFileSync(join(dir, 'a.yaml'), remote('frankfurt', '65-2:0:20'));
    await until(events, 1);
    assert.equal(summary(events[0]!), 'add RemoteCluster/frankfurt gen1 valid');
  });
});
