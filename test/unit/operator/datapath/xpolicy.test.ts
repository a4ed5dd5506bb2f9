// CillionNetworkPolicy to xpolicy map entries: the example YAML in, a map dump out (golden),
// and the compilation rules (wildcards, default deny, first policy by name, egress by the
// peers' published addresses, unresolvable clusters, limits).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { XPolicyKey } from '../../../../bpf/maps';
import { compileXPolicies, PolicyIds, type PolicyEndpoint, type XPolicyState } from '../../../../operator/datapath/xpolicy';
import { scopedIdentity } from '../../../../identity/cluster_scope';
import { endpointLabels, labelMap, LocalIdentityDirectory, StaticIdentityDirectory, unionDirectories, type DirectoryEntry } from '../../../../resources/identity_directory';
import { identityLabels } from '../../../../identity/labels';
import { CLUSTER_LABEL, validateNetworkPolicy, type CillionNetworkPolicy } from '../../../../resources/networkpolicy';
import { validateResource } from '../../../../resources/resource';
import { readWorkloads } from '../../../../operator/workloads/directory';
import { networkProgrammedCondition } from '../../../../operator/programmer';
import type { ConditionUpdate } from '../../../../resources/status';

const pick = (c: ConditionUpdate) => ({ status: c.status, reason: c.reason, message: c.message, observedGeneration: c.observedGeneration });

const ROOT = join(__dirname, '..', '..', '..', '..');
const CLUSTER_IDS: Record<string, number> = { zurich: 1, frankfurt: 2 };

/** Each example workload of a cluster with a cluster-scoped identity, in file order. */
function clusterEntries(cluster: string): Array<DirectoryEntry & { node: string; name: string }> {
  return readWorkloads(join(ROOT, 'examples', 'workloads', `${cluster}.yaml`)).map((w, i) => ({
    id: scopedIdentity(CLUSTER_IDS[cluster]!, 256 + i),
    labels: endpointLabels(labelMap(identityLabels(w.namespace, w.labels)), cluster),
    addresses: [w.ip],
    node: w.node,
    name: w.name,
  }));
}

/** The CillionNetworkPolicies of a cluster's example directory, as its operator loads them. */
function examplePolicies(cluster: string): CillionNetworkPolicy[] {
  const dir = join(ROOT, 'examples', 'policies', cluster);
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as { kind?: string }))
    .filter((d) => d.kind === 'CillionNetworkPolicy');
  assert.ok(docs.length > 0, `${dir} has a CillionNetworkPolicy`);
  return docs.map((d) => {
    const r = validateResource(d);
    if (!r.ok) assert.fail(JSON.stringify(r.problems));
    return r.value as CillionNetworkPolicy;
  });
}

/** The datapath's decision (bpf/include/lib/xpolicy.h) over compiled entries, for checking semantics here. */
function decide(s: XPolicyState, dst: number, src: number, proto: number, dport: number): { allowed: boolean; policy: number } {
  const selected = new Map(s.selected).get(dst);
  if (selected === undefined) return { allowed: true, policy: 0 };
  const allow = new Map(s.allow.map(([k, v]) => [`${k.dstIdentity} ${k.srcIdentity} ${k.proto} ${k.dport}`, v]));
  for (const [p, d] of [[proto, dport], [proto, 0], [0, dport], [0, 0]]) {
    const v = allow.get(`${dst} ${src} ${p} ${d}`);
    if (v !== undefined) return { allowed: true, policy: v };
  }
  return { allowed: false, policy: selected };
}

/** The egress half as xpolicy.h decides it: the peer by its address, then the same four lookups. */
function decideEgress(s: XPolicyState, src: number, daddr: string, proto: number, dport: number): { allowed: boolean; policy: number } {
  const selected = new Map(s.egressSelected).get(src);
  if (selected === undefined) return { allowed: true, policy: 0 };
  const peer = new Map(s.peers).get(daddr);
  const allow = new Map(s.egressAllow.map(([k, v]) => [`${k.dstIdentity} ${k.srcIdentity} ${k.proto} ${k.dport}`, v]));
  for (const [p, d] of [[proto, dport], [proto, 0], [0, dport], [0, 0]]) {
    const v = peer === undefined ? undefined : allow.get(`${peer} ${src} ${p} ${d}`);
    if (v !== undefined) return { allowed: true, policy: v };
  }
  return { allowed: false, policy: selected };
}

const entry = ([k, p]: [XPolicyKey, number]): string => `proto ${k.proto || 'any'} port ${k.dport || 'any'} -> policy ${p}`;
const render = (s: XPolicyState, ids: PolicyIds): string =>
  [
    '[xpolicy_selected]',
    ...s.selected.map(([id, p]) => `identity ${id} selected by policy ${p} (${ids.nameOf(p)})`).sort(),
    '',
    '[xpolicy_allow]',
    ...s.allow.map((e) => `identity ${e[0].dstIdentity} from ${e[0].srcIdentity} ${entry(e)}`).sort(),
    '',
    '[xpolicy_egress_selected]',
    ...s.egressSelected.map(([id, p]) => `identity ${id} selected by policy ${p} (${ids.nameOf(p)})`).sort(),
    '',
    '[xpolicy_egress_allow]',
    ...s.egressAllow.map((e) => `identity ${e[0].srcIdentity} to ${e[0].dstIdentity} ${entry(e)}`).sort(),
    '',
    '[xpolicy_peers]',
    ...s.peers.map(([ip, id]) => `${ip} is identity ${id}`).sort(),
    '',
  ].join('\n');

function golden(name: string, text: string): void {
  const file = join(__dirname, 'golden', `${name}.txt`);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, text);
  assert.equal(text, readFileSync(file, 'utf8'), `${file} (UPDATE_GOLDEN=1 rewrites it)`);
}

const UDP = 17;
const TCP = 6;

describe('operator/datapath: CillionNetworkPolicy to xpolicy maps', () => {
  const zurich = clusterEntries('zurich');
  const frankfurt = clusterEntries('frankfurt');
  const id = (entries: typeof zurich, name: string): number => entries.find((e) => e.name === name)!.id;

  it('the example: Frankfurt billing admits Zurich billing on UDP 7000 and refuses Zurich video (golden)', () => {
    const ids = new PolicyIds();
    const endpoints: PolicyEndpoint[] = frankfurt.filter((e) => e.node === 'fra-node-1').map((e) => ({ identity: e.id, labels: e.labels }));
    const peers = unionDirectories(new StaticIdentityDirectory(zurich), new StaticIdentityDirectory(frankfurt));
    const s = compileXPolicies({ policies: examplePolicies('frankfurt'), endpoints, peers }, ids);
    golden('fra-node-1-xpolicy', render(s, ids));
    assert.equal(s.outcomes[0]!.problem, undefined);
    const billing = id(frankfurt, 'billing-0');
    const policy = ids.idOf('billing-ingress');
    assert.deepEqual(decide(s, billing, id(zurich, 'billing-0'), UDP, 7000), { allowed: true, policy });
    assert.deepEqual(decide(s, billing, id(zurich, 'video-0'), UDP, 7000), { allowed: false, policy });
    assert.deepEqual(decide(s, billing, id(zurich, 'billing-0'), UDP, 7001), { allowed: false, policy }, 'another port');
    assert.deepEqual(decide(s, billing, id(zurich, 'billing-0'), TCP, 7000), { allowed: false, policy }, 'another protocol');
    assert.deepEqual(decide(s, billing, id(frankfurt, 'billing-0'), UDP, 7000), { allowed: false, policy }, 'the cluster label holds');
    assert.deepEqual(decide(s, billing, 0, UDP, 7000), { allowed: false, policy }, 'no identity carried');
    assert.deepEqual(decide(s, id(frankfurt, 'video-0'), id(zurich, 'video-0'), UDP, 7001), { allowed: true, policy: 0 }, 'video is selected by no policy');
  });

  it('the example: Zurich billing sends only to Frankfurt billing on UDP 7000, named by its published address (golden)', () => {
    const ids = new PolicyIds();
    const endpoints: PolicyEndpoint[] = zurich.filter((e) => e.node === 'zrh-node-1').map((e) => ({ identity: e.id, labels: e.labels }));
    const peers = unionDirectories(new StaticIdentityDirectory(zurich), new StaticIdentityDirectory(frankfurt));
    const s = compileXPolicies({ policies: examplePolicies('zurich'), endpoints, peers }, ids);
    golden('zrh-node-1-xpolicy', render(s, ids));
    assert.deepEqual(s.selected, [], 'an egress-only policy selects nothing for ingress');
    const billing = id(zurich, 'billing-0');
    const ip = (name: string): string => frankfurt.find((e) => e.name === name)!.addresses![0]!;
    const policy = ids.idOf('billing-egress');
    assert.deepEqual(decideEgress(s, billing, ip('billing-0'), UDP, 7000), { allowed: true, policy });
    assert.deepEqual(decideEgress(s, billing, ip('video-0'), UDP, 7001), { allowed: false, policy }, 'Frankfurt video');
    assert.deepEqual(decideEgress(s, billing, ip('billing-0'), UDP, 7001), { allowed: false, policy }, 'another port');
    assert.deepEqual(decideEgress(s, billing, '192.0.2.1', UDP, 7000), { allowed: false, policy }, 'an address no catalogue names');
    assert.deepEqual(decideEgress(s, id(zurich, 'video-0'), ip('billing-0'), UDP, 7000), { allowed: true, policy: 0 }, 'video is selected by no egress policy');
  });

  it('a selector naming a cluster the directory does not know: CatalogueMissing, and that cluster is refused', () => {
    const ids = new PolicyIds();
    const endpoints: PolicyEndpoint[] = frankfurt.map((e) => ({ identity: e.id, labels: e.labels }));
    // Frankfurt before Zurich's catalogue arrived: only its own identities.
    const s = compileXPolicies({ policies: examplePolicies('frankfurt'), endpoints, peers: new StaticIdentityDirectory(frankfurt) }, ids);
    assert.deepEqual(s.outcomes[0]!.problem?.reason, 'CatalogueMissing');
    assert.match(s.outcomes[0]!.problem!.message, /zurich/);
    assert.deepEqual(s.allow, []);
    assert.deepEqual(decide(s, id(frankfurt, 'billing-0'), id(zurich, 'billing-0'), UDP, 7000).allowed, false);
  });

  it('egress to a peer whose catalogue publishes no address: NoPeerAddress, and it stays refused', () => {
    const ids = new PolicyIds();
    const endpoints: PolicyEndpoint[] = zurich.map((e) => ({ identity: e.id, labels: e.labels }));
    const bare = new StaticIdentityDirectory(frankfurt.map(({ id: i, labels }) => ({ id: i, labels })));
    const s = compileXPolicies({ policies: examplePolicies('zurich'), endpoints, peers: bare }, ids);
    assert.equal(s.outcomes[0]!.problem?.reason, 'NoPeerAddress');
    assert.deepEqual(s.peers, []);
    assert.equal(decideEgress(s, id(zurich, 'billing-0'), frankfurt[0]!.addresses![0]!, UDP, 7000).allowed, false);
  });

  const np = (name: string, spec: unknown): CillionNetworkPolicy => {
    const r = validateNetworkPolicy({ apiVersion: 'cillion.io/v1alpha1', kind: 'CillionNetworkPolicy', metadata: { name }, spec });
    if (!r.ok) assert.fail(JSON.stringify(r.problems));
    return r.value;
  };
  const billingSel = { matchLabels: { app: 'billing' } };
  const local: PolicyEndpoint[] = frankfurt.map((e) => ({ identity: e.id, labels: e.labels }));
  const peers = new StaticIdentityDirectory(zurich);

  it('wildcards: no toPorts admits every protocol and port; a port with ANY admits it over TCP and UDP', () => {
    const ids = new PolicyIds();
    const s = compileXPolicies({
      policies: [np('p', { endpointSelector: billingSel, ingress: [{ fromEndpoints: [{ matchLabels: { app: 'video' } }] }, { fromEndpoints: [{ matchLabels: { app: 'analytics' } }], toPorts: [{ port: 53 }] }] })],
      endpoints: local, peers,
    }, ids);
    const billing = id(frankfurt, 'billing-0');
    assert.ok(decide(s, billing, id(zurich, 'video-0'), 1, 0).allowed, 'ICMP from video');
    assert.ok(decide(s, billing, id(zurich, 'analytics-0'), TCP, 53).allowed);
    assert.ok(decide(s, billing, id(zurich, 'analytics-0'), UDP, 53).allowed);
    assert.ok(!decide(s, billing, id(zurich, 'analytics-0'), UDP, 54).allowed);
    assert.equal(s.allow.length, 2);
  });

  it('ingress: [] selects the endpoint and admits nothing; egress-only selects nothing', () => {
    const ids = new PolicyIds();
    const s = compileXPolicies({
      policies: [np('deny-all', { endpointSelector: billingSel, ingress: [] }), np('egress-only', { endpointSelector: { matchLabels: { app: 'video' } }, egress: [{ toEndpoints: [{ matchLabels: { [CLUSTER_LABEL]: 'zurich' } }] }] })],
      endpoints: local, peers,
    }, ids);
    assert.deepEqual(s.selected, [[id(frankfurt, 'billing-0'), ids.idOf('deny-all')]]);
    assert.deepEqual(s.allow, []);
    const egress = s.outcomes.find((o) => o.policy.metadata.name === 'egress-only')!;
    assert.deepEqual(egress.egressPeers, zurich.map((e) => e.id));
    assert.deepEqual(egress.selected, []);
    assert.deepEqual(egress.egressSelected, [id(frankfurt, 'video-0')]);
    assert.deepEqual(s.peers.length, zurich.length, 'every Zurich pod by its address');
  });

  it('two policies on one endpoint: allows add up, the first by name names the denials', () => {
    const ids = new PolicyIds();
    const s = compileXPolicies({
      policies: [np('b', { endpointSelector: billingSel, ingress: [{ fromEndpoints: [{ matchLabels: { app: 'video' } }] }] }), np('a', { endpointSelector: billingSel, ingress: [{ fromEndpoints: [{ matchLabels: { app: 'billing' } }] }] })],
      endpoints: local, peers,
    }, ids);
    const billing = id(frankfurt, 'billing-0');
    assert.deepEqual(decide(s, billing, id(zurich, 'video-0'), UDP, 1), { allowed: true, policy: ids.idOf('b') });
    assert.deepEqual(decide(s, billing, id(zurich, 'billing-0'), UDP, 1), { allowed: true, policy: ids.idOf('a') });
    assert.deepEqual(decide(s, billing, id(zurich, 'analytics-0'), UDP, 1), { allowed: false, policy: ids.idOf('a') });
  });

  it('keeps policy ids while the policy exists, and forgets deleted ones', () => {
    const ids = new PolicyIds();
    const a = np('a', { endpointSelector: billingSel, ingress: [] });
    const b = np('b', { endpointSelector: billingSel, ingress: [] });
    compileXPolicies({ policies: [a, b], endpoints: local, peers }, ids);
    const idB = ids.idOf('b');
    compileXPolicies({ policies: [b], endpoints: local, peers }, ids);
    assert.equal(ids.idOf('b'), idB);
    assert.equal(ids.nameOf(ids.idOf('a')), 'a');
  });

  it('stops at the allow entry limit, says so in the outcome, and admits less rather than more', () => {
    const ids = new PolicyIds();
    const s = compileXPolicies({
      policies: [np('all', { endpointSelector: {}, ingress: [{ fromEndpoints: [{}] }] })],
      endpoints: local, peers, maxAllowEntries: 5,
    }, ids);
    assert.equal(s.allow.length, 5);
    assert.equal(s.outcomes[0]!.problem?.reason, 'TooManyEntries');
    assert.equal(s.selected.length, local.length, 'every selected endpoint is still default-deny');
  });

  it('stops at the peer address limit, says so, and refuses the peers left out', () => {
    const ids = new PolicyIds();
    const endpoints: PolicyEndpoint[] = zurich.map((e) => ({ identity: e.id, labels: e.labels }));
    const everyone = np('all-of-frankfurt', { endpointSelector: billingSel, egress: [{ toEndpoints: [{ matchLabels: { [CLUSTER_LABEL]: 'frankfurt' } }] }] });
    const s = compileXPolicies({ policies: [everyone], endpoints, peers: new StaticIdentityDirectory(frankfurt), maxPeerAddresses: 2 }, ids);
    assert.equal(s.peers.length, 2);
    assert.equal(s.outcomes[0]!.problem?.reason, 'TooManyEntries');
    const left = frankfurt.find((e) => !s.peers.some(([ip]) => ip === e.addresses![0]))!;
    assert.equal(decideEgress(s, id(zurich, 'billing-0'), left.addresses![0]!, UDP, 7000).allowed, false);
  });

  it('status: Programmed True with the peers resolved, False naming the reason (catalogue missing, a refused map write)', () => {
    const report = { added: 0, updated: 0, removed: 0, unchanged: 0, failed: [], deferred: 0 };
    const endpoints: PolicyEndpoint[] = frankfurt.map((e) => ({ identity: e.id, labels: e.labels }));
    const both = unionDirectories(new StaticIdentityDirectory(zurich), new StaticIdentityDirectory(frankfurt));
    const ok = compileXPolicies({ policies: examplePolicies('frankfurt'), endpoints, peers: both }, new PolicyIds()).outcomes[0]!;
    assert.deepEqual(pick(networkProgrammedCondition(ok, report, 3)), { status: 'True', reason: 'Programmed', message: 'ingress from 1 peer identity', observedGeneration: 3 });
    const alone = compileXPolicies({ policies: examplePolicies('frankfurt'), endpoints, peers: new StaticIdentityDirectory(frankfurt) }, new PolicyIds()).outcomes[0]!;
    const missing = networkProgrammedCondition(alone, report, 3);
    assert.deepEqual([missing.status, missing.reason], ['False', 'CatalogueMissing']);
    assert.match(missing.message, /no identity catalogue of cluster zurich/);
    const refused = { ...report, failed: [{ map: 'xpolicy_allow' as const, key: 'k', op: 'set' as const, error: 'E2BIG', attempts: 1 }] };
    assert.deepEqual(pick(networkProgrammedCondition(ok, refused, 3)), { status: 'False', reason: 'MapWriteFailed', message: 'xpolicy_allow: E2BIG', observedGeneration: 3 });
  });

  it('the local allocator directory matches by identity labels under its cluster name', () => {
    const dir = new LocalIdentityDirectory({ all: () => [{ id: 300, labels: identityLabels('shop', { app: 'billing' }) }, { id: 301, labels: identityLabels('media', { app: 'video' }) }] }, 'frankfurt');
    assert.deepEqual(dir.matching({ matchLabels: { app: 'billing', [CLUSTER_LABEL]: 'frankfurt' }, matchExpressions: [] }), [300]);
    assert.deepEqual(dir.matching({ matchLabels: { [CLUSTER_LABEL]: 'zurich' }, matchExpressions: [] }), []);
    assert.deepEqual(dir.matching({ matchLabels: { 'io.kubernetes.pod.namespace': 'media' }, matchExpressions: [] }), [301]);
  });
});
