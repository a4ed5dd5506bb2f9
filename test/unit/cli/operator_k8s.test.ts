// `cillion operator --kubernetes` as real processes against the recorded-protocol API server
// (test/unit/kube/fake_apiserver.ts), reached through kubeconfig files: two
// replicas elect a leader on a Lease, only the leader writes status, a policy change is
// followed, and SIGTERM releases the Lease. The requests they made are then the measure of
// the RBAC rules in deploy/operator/.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { operatorCommand } from '../../../cli/commands/operator';
import { identityLabels } from '../../../identity/labels';
import { cillionIdentityObject, IDENTITY_KIND, IDENTITY_PLURAL } from '../../../resources/cillionidentity';
import { PLURALS, type Kind } from '../../../resources/meta';
import { FakeApiServer, type RecordedRequest } from '../kube/fake_apiserver';

const ROOT = join(__dirname, '..', '..', '..');
const KINDS_BY_PLURAL = { ...Object.fromEntries(Object.entries(PLURALS).map(([kind, plural]) => [plural, kind])), [IDENTITY_PLURAL]: IDENTITY_KIND };
const GROUP = '/apis/cillion.io/v1alpha1/';

type Obj = Record<string, any>;

interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => err, exited };
}

async function until(cond: () => boolean, what: () => string, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function kubeconfig(dir: string, server: string, token: string): string {
  const file = join(dir, `kubeconfig-${token}`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node speaks plain HTTP only when told to skip TLS verification.
      clusters: [{ name: 'fake', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: token, user: { token } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: token } }],
      'current-context': 'fake',
    }),
  );
  return file;
}

/** The example cluster's resources (returned as plural/name), pods (running, as the kubelet reports them) and namespaces. */
function seed(api: FakeApiServer): string[] {
  const resources: string[] = [];
  // Zurich's resources, a CillionNetworkPolicy among them, so every kind the operator watches is there.
  for (const dir of ['zurich'].map((d) => join(ROOT, 'examples', 'policies', d))) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
        const o = doc.toJS() as Obj | null;
        if (!o) continue;
        api.apply(PLURALS[o.kind as Kind], o);
        resources.push(`${PLURALS[o.kind as Kind]}/${o.metadata.name}`);
      }
    }
  }
  for (const doc of parseAllDocuments(readFileSync(join(ROOT, 'examples', 'workloads', 'zurich.yaml'), 'utf8'))) {
    const pod = doc.toJS() as Obj;
    api.apply('pods', { ...pod, status: { ...pod.status, phase: 'Running', podIPs: [{ ip: pod.status.podIP }] } });
    if (!api.get('namespaces', pod.metadata.namespace)) {
      api.apply('namespaces', { metadata: { name: pod.metadata.namespace, labels: { 'kubernetes.io/metadata.name': pod.metadata.namespace } } });
    }
  }
  return resources;
}

/** The pods' label sets, as identities name them. */
function podLabelSets(): string[] {
  return parseAllDocuments(readFileSync(join(ROOT, 'examples', 'workloads', 'zurich.yaml'), 'utf8'))
    .map((d) => d.toJS() as Obj)
    .map((p) => identityLabels(p.metadata.namespace, p.metadata.labels ?? {}).join(','));
}

/** CillionIdentity objects already there: frankfurt's (cluster id 2), and two broken ones of this cluster (id 1). */
function seedIdentities(api: FakeApiServer): Obj {
  const remote = api.apply(IDENTITY_PLURAL, cillionIdentityObject({ id: 131328, clusterId: 2, labels: identityLabels('shop', { app: 'billing' }) }));
  // Unsorted labels: not a number to start from, so 65792 is allocated afresh and its object replaced.
  api.apply(IDENTITY_PLURAL, cillionIdentityObject({ id: 65792, clusterId: 1, labels: ['k8s:z=1', 'k8s:io.kubernetes.pod.namespace=x'] }));
  api.apply(IDENTITY_PLURAL, cillionIdentityObject({ id: 65999, clusterId: 1, labels: ['k8s:z=1', 'k8s:io.kubernetes.pod.namespace=x'] }));
  return remote;
}

const statusPatches = (api: FakeApiServer, token: string): RecordedRequest[] =>
  api.requests.filter((r) => r.method === 'PATCH' && r.path.startsWith(GROUP) && r.path.endsWith('/status') && r.token === token);

const condition = (o: Obj | undefined, type: string): Obj | undefined => (o?.status?.conditions as Obj[] | undefined)?.find((c) => c.type === type);

describe('cillion operator --kubernetes (processes against the recorded-protocol API server)', function () {
  this.timeout(90000);
  let dir: string;
  let api: FakeApiServer;
  const procs: Proc[] = [];
  /** What the processes asked of the API server, for the RBAC check below. */
  let used: RecordedRequest[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cilopk8s-'));
    api = new FakeApiServer(KINDS_BY_PLURAL);
    await api.start();
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses --resources with --kubernetes, and neither, as usage errors', () => {
    const cli = (args: string[]) => spawnSync(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', 'operator', ...args], { cwd: ROOT, encoding: 'utf8' });
    const both = cli(['--kubernetes', '--resources', 'examples/policies/zurich', '--once']);
    assert.equal(both.status, 2, both.stderr);
    assert.match(both.stderr, /either --resources or --kubernetes/);
    const neither = cli(['--once']);
    assert.equal(neither.status, 2, neither.stderr);
    assert.match(neither.stderr, /--resources DIR .* or --kubernetes/);
  });

  it('leader writes status by server-side apply, publishes identities, follows a policy change, hands over on SIGTERM; the follower writes nothing', async () => {
    const resources = seed(api);
    const frankfurt = seedIdentities(api);
    assert.ok(resources.length >= 8, resources.join(' '));
    const common = ['operator', '--kubernetes', '--lease-namespace', 'cillion-system', '--refresh', '300'];
    const a = start([...common, '--kubeconfig', kubeconfig(dir, api.url, 'one'), '--identity', 'op-a', '--state', join(dir, 'state')]);
    procs.push(a);

    // A takes the free Lease and writes the status of every resource.
    await until(() => api.lease('cillion-system', 'cillion-operator')?.spec.holderIdentity === 'op-a', () => a.stderr());
    await until(() => resources.every((r) => condition(api.get(r.split('/')[0]!, r.split('/')[1]!), 'Valid')), () => `statuses\n${a.stderr()}`);
    for (const p of statusPatches(api, 'one')) {
      assert.equal(p.contentType, 'application/apply-patch+yaml', p.path);
      assert.equal(p.query.get('fieldManager'), 'cillion-operator', p.path);
      assert.equal(p.query.get('force'), 'true', p.path);
    }
    for (const r of resources) {
      const o = api.get(r.split('/')[0]!, r.split('/')[1]!)!;
      assert.equal(condition(o, 'Valid')?.status, 'True', r);
      assert.deepEqual(o.metadata.managedFields.map((m: Obj) => [m.manager, m.operation, m.subresource]), [['cillion-operator', 'Apply', 'status']], r);
    }
    const video = () => api.get('wanpathpolicies', 'video')!;
    assert.equal(condition(video(), 'Programmed')?.status, 'True');
    assert.equal(video().status.paths.length, 3);
    assert.equal(condition(api.get('wanpathpolicies', 'replication'), 'Programmed')?.status, 'True');

    // B programs node 2 (its pods come from the API server by field selector) with the identities A
    // allocated (the replicas share the state volume) and waits for the Lease.
    const b = start([...common, '--kubeconfig', kubeconfig(dir, api.url, 'two'), '--identity', 'op-b', '--state', join(dir, 'state'), '--node', 'zrh-node-2']);
    procs.push(b);
    await until(() => /op-a leads/.test(b.stderr()) && /policy video:/.test(b.stderr()), () => b.stderr());
    assert.match(b.stderr(), /programmed: [1-9]\d* added/);
    // Every pod of the cluster (for when it allocates), its node's taken out of those: one list and
    // one watch of pods, not a second by field selector; namespaces likewise once.
    const podRequests = api.requests.filter((r) => r.token === 'two' && r.path === '/api/v1/pods');
    assert.ok(podRequests.every((r) => r.query.get('fieldSelector') === null), podRequests.map((r) => r.query.toString()).join('\n'));
    for (const path of ['/api/v1/pods', '/api/v1/namespaces']) {
      const lists = api.requests.filter((r) => r.token === 'two' && r.path === path && r.query.get('watch') === null);
      assert.equal(lists.length, 1, `${path}: ${lists.map((r) => r.query.toString()).join(' | ')}`);
    }

    // A policy change: the leader recomputes and writes the new status.
    const before = statusPatches(api, 'one').length;
    api.apply('wanpathpolicies', { ...video(), spec: { ...video().spec, paths: 2 } });
    await until(() => video().status.observedGeneration === 2, () => a.stderr());
    assert.equal(video().status.paths.length, 2);
    assert.equal(condition(video(), 'Programmed')?.observedGeneration, 2);
    assert.ok(statusPatches(api, 'one').length > before);
    // B saw it too (its own recompute), yet wrote nothing.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(statusPatches(api, 'two').length, 0, b.stderr());
    // Only the Lease holder allocates identities; B reads what A wrote.
    await until(() => /identities: allocating for cluster id 1/.test(a.stderr()), () => a.stderr());
    assert.doesNotMatch(b.stderr(), /identities: allocating/);
    // ... and publishes them for the agents: one CillionIdentity per label set of the cluster's pods,
    // the broken ones of cluster 1 replaced or deleted, frankfurt's untouched.
    const mine = () => api.list(IDENTITY_PLURAL).filter((o) => o.clusterId === 1);
    const wanted = [...new Set(podLabelSets())].sort();
    await until(() => mine().map((o) => o.securityLabels.join(',')).sort().join('|') === wanted.join('|'), () => `${JSON.stringify(mine())}\n${a.stderr()}`);
    assert.equal(api.get(IDENTITY_PLURAL, '65999'), undefined);
    assert.equal(api.get(IDENTITY_PLURAL, '131328')!.metadata.resourceVersion, frankfurt.metadata.resourceVersion, 'frankfurt\'s identity is left alone');
    assert.ok(api.requests.filter((r) => r.path.includes(IDENTITY_PLURAL) && r.method !== 'GET').every((r) => r.token === 'one'), 'only the leader writes identities');

    // SIGTERM: A releases the Lease and exits 0; B takes over and writes status.
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.stderr());
    const release = api.requests.filter((r) => r.token === 'one' && r.method === 'PUT' && r.path.endsWith('/leases/cillion-operator')).at(-1);
    assert.equal((release?.body as Obj | undefined)?.spec?.holderIdentity, '', 'the last Lease write of A frees it');
    await until(() => api.lease('cillion-system', 'cillion-operator')?.spec.holderIdentity === 'op-b', () => b.stderr());
    await until(() => statusPatches(api, 'two').length >= resources.length, () => b.stderr());
    await until(() => /identities: allocating for cluster id 1/.test(b.stderr()), () => b.stderr());
    assert.equal(video().status.observedGeneration, 2);

    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0, b.stderr());
    assert.equal(api.lease('cillion-system', 'cillion-operator')?.spec.holderIdentity, '');
    used = api.requests.filter((r) => r.token !== '');
  });

  describe('deploy/operator/ manifests', () => {
    const docs = (): Obj[] =>
      readdirSync(join(ROOT, 'deploy', 'operator'))
        .filter((f) => f.endsWith('.yaml'))
        .flatMap((f) => parseAllDocuments(readFileSync(join(ROOT, 'deploy', 'operator', f), 'utf8')).map((d) => d.toJS() as Obj))
        .filter((d) => d !== null);
    const one = (kind: string): Obj => {
      const found = docs().filter((d) => d.kind === kind);
      assert.equal(found.length, 1, kind);
      return found[0]!;
    };

    it('run two replicas of `cillion operator --kubernetes` with options the command has, as the service account', () => {
      assert.deepEqual(docs().map((d) => d.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Namespace', 'Role', 'RoleBinding', 'ServiceAccount']);
      const ns = one('Namespace').metadata.name;
      const dep = one('Deployment');
      assert.equal(dep.metadata.namespace, ns);
      assert.equal(dep.spec.replicas, 2);
      const pod = dep.spec.template.spec;
      assert.equal(pod.serviceAccountName, one('ServiceAccount').metadata.name);
      assert.equal(one('ServiceAccount').metadata.namespace, ns);
      const [container] = pod.containers as Obj[];
      const args = container!.args as string[];
      assert.deepEqual(args.slice(0, 2), ['operator', '--kubernetes']);
      const cmd = operatorCommand();
      for (const flag of args.filter((x) => x.startsWith('--'))) assert.ok(cmd.options.some((o) => o.long === flag), `${flag} is an option of cillion operator`);
      // Each replica is its own candidate, and the Lease lives where its Role grants it.
      const env = Object.fromEntries((container!.env as Obj[]).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
      assert.equal(env[args[args.indexOf('--identity') + 1]!.replace(/^\$\((.*)\)$/, '$1')], 'metadata.name');
      assert.equal(env[args[args.indexOf('--lease-namespace') + 1]!.replace(/^\$\((.*)\)$/, '$1')], 'metadata.namespace');
      assert.equal(one('Role').metadata.namespace, ns);
    });

    it('grant exactly what the processes above asked of the API server', () => {
      assert.ok(used.length > 0, 'needs the two-replica run above');
      const ns = one('Namespace').metadata.name as string;
      const sa = one('ServiceAccount');
      for (const binding of [one('ClusterRoleBinding'), one('RoleBinding')]) {
        assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: ns }]);
      }
      assert.equal(one('ClusterRoleBinding').roleRef.name, one('ClusterRole').metadata.name);
      assert.equal(one('RoleBinding').roleRef.name, one('Role').metadata.name);
      interface Grant {
        group: string;
        resource: string;
        verb: string;
        namespace?: string;
        names?: string[];
      }
      const grants: Grant[] = [];
      for (const [role, namespace] of [[one('ClusterRole'), undefined], [one('Role'), one('Role').metadata.namespace as string]] as const) {
        for (const rule of role.rules as Obj[]) {
          for (const group of rule.apiGroups) for (const resource of rule.resources) for (const verb of rule.verbs) grants.push({ group, resource, verb, namespace, names: rule.resourceNames });
        }
      }
      // The request as RBAC sees it: API group, resource (with subresource), verb, namespace, name.
      const asked = used.map((r) => {
        const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(r.path);
        assert.ok(m, r.path);
        const [, group = '', namespace, plural, name, sub] = m;
        const verb = { GET: name ? 'get' : r.query.get('watch') === 'true' ? 'watch' : 'list', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }[r.method]!;
        return { group, resource: sub ? `${plural}/${sub}` : plural!, verb, namespace, name, path: r.path };
      });
      for (const q of asked) {
        const ok = grants.some(
          (g) => g.group === q.group && g.resource === q.resource && g.verb === q.verb && (g.namespace === undefined || g.namespace === q.namespace) && (!g.names || (q.name !== undefined && g.names.includes(q.name))),
        );
        assert.ok(ok, `${q.verb} ${q.path} is granted`);
      }
      const key = (g: { group: string; resource: string; verb: string }) => `${g.group}/${g.resource}:${g.verb}`;
      assert.deepEqual([...new Set(grants.map(key))].sort(), [...new Set(asked.map(key))].sort(), 'nothing is granted that is not used');
    });
  });
});
