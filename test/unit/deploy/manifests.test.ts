// The Kubernetes manifests under deploy/: every `cillion` container runs a subcommand with
// options it has, with the variables, volumes and service accounts it refers to defined; the
// relay replicas name each other, the agents name them, and the certificates fit the names.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { agentCommand } from '../../../cli/commands/agent';
import { operatorCommand } from '../../../cli/commands/operator';
import { relayCommand } from '../../../cli/commands/relay';
import { version } from '../../../package.json';
import { AccessPolicy } from '../../../relay/auth/policy';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const DEPLOY = resolve(__dirname, '..', '..', '..', 'deploy');
const COMMANDS: Record<string, () => Command> = { agent: agentCommand, operator: operatorCommand, relay: relayCommand };

/** The documents of the YAML files directly in each folder, as `kubectl apply -f` reads them. */
function docsIn(...dirs: string[]): Obj[] {
  return dirs.flatMap((dir) =>
    readdirSync(join(DEPLOY, dir))
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => parseAllDocuments(readFileSync(join(DEPLOY, dir, f), 'utf8')).map((d) => d.toJS() as Obj))
      .filter((d) => d !== null),
  );
}

/** Folders of deploy/ applied together to run a `cillion` process. */
const WORKLOAD_SETS: Record<string, string[]> = {
  agent: ['agent'],
  operator: ['operator'],
  'relay, shared store': ['relay', 'relay/shared-store'],
  'relay, own stores': ['relay', 'relay/own-stores'],
  'relay, the federated view of a shared store': ['relay', 'relay/federation-relay'],
};
const RELAY_MODES = ['relay/shared-store', 'relay/own-stores'];

/** `--peer` values as [name, address]. */
const peersOf = (args: string[]): string[][] => values(args, '--peer').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]);
/** Peers of another cluster: named by that cluster, not by $(CLUSTER_NAME). */
const federated = (peers: string[][]): string[][] => peers.filter(([n]) => !n.startsWith('$(CLUSTER_NAME)-'));

/** Every value given to `flag` in `args`. */
const values = (args: string[], flag: string): string[] => args.flatMap((a, i) => (a === flag && i + 1 < args.length ? [args[i + 1]!] : []));
/** A certificate DNS name (one leading wildcard label at most) covers `host`. */
const covers = (name: string, host: string): boolean => (name.startsWith('*.') ? host.slice(host.indexOf('.') + 1) === name.slice(2) : name === host);

describe('deploy/ manifests', () => {
  for (const [set, dirs] of Object.entries(WORKLOAD_SETS)) {
    describe(`${set}: deploy/${dirs.join('/, deploy/')}/`, () => {
      const docs = docsIn(...dirs);
      const workloads = docs.filter((d) => ['Deployment', 'DaemonSet', 'StatefulSet'].includes(d.kind));

      it('has a workload', () => assert.equal(workloads.length, 1));

      it('runs the image `make image` tags', () => {
        for (const w of workloads) {
          for (const c of w.spec.template.spec.containers as Obj[]) assert.equal(c.image, `cillion:${version}`, `${w.metadata.name}/${c.name}`);
        }
      });

      it('runs `cillion` subcommands with options they have and variables they define', () => {
        for (const w of workloads) {
          for (const c of w.spec.template.spec.containers as Obj[]) {
            assert.deepEqual(c.command, ['cillion'], `${w.metadata.name}/${c.name}`);
            const args = c.args as string[];
            const sub = COMMANDS[args[0]!];
            assert.ok(sub, `${args[0]} is a process command`);
            const cmd = sub();
            for (const flag of args.filter((x) => x.startsWith('--'))) assert.ok(cmd.options.some((o) => o.long === flag), `${flag} is an option of cillion ${args[0]}`);
            for (const o of cmd.options.filter((x) => x.mandatory)) assert.ok(args.includes(o.long!), `${o.long} is required by cillion ${args[0]}`);
            const env = new Set(((c.env ?? []) as Obj[]).map((e) => e.name as string));
            for (const ref of args.flatMap((a) => [...a.matchAll(/\$\(([A-Z_]+)\)/g)].map((m) => m[1]!))) assert.ok(env.has(ref), `$(${ref}) is in env`);
          }
        }
      });

      it('mounts only volumes it declares, as a service account that exists and is bound', () => {
        for (const w of workloads) {
          const pod = w.spec.template.spec;
          const volumes = new Set([...((pod.volumes ?? []) as Obj[]), ...((w.spec.volumeClaimTemplates ?? []) as Obj[]).map((t) => t.metadata)].map((v) => v.name as string));
          for (const c of pod.containers as Obj[]) for (const m of (c.volumeMounts ?? []) as Obj[]) assert.ok(volumes.has(m.name), `volume ${m.name}`);
          assert.equal(w.spec.selector.matchLabels['app.kubernetes.io/name'], pod.metadata?.labels?.['app.kubernetes.io/name'] ?? w.spec.template.metadata.labels['app.kubernetes.io/name']);
          const sa = docs.find((d) => d.kind === 'ServiceAccount' && d.metadata.name === pod.serviceAccountName);
          assert.ok(sa, `ServiceAccount ${pod.serviceAccountName}`);
          assert.equal(sa.metadata.namespace, w.metadata.namespace);
          const bound = docs.filter((d) => d.kind.endsWith('Binding') && (d.subjects as Obj[]).some((s) => s.name === sa.metadata.name && s.namespace === sa.metadata.namespace));
          assert.ok(bound.length > 0, `${sa.metadata.name} is bound to a role`);
          for (const b of bound) assert.ok(docs.some((d) => d.kind === b.roleRef.kind && d.metadata.name === b.roleRef.name), `${b.roleRef.kind} ${b.roleRef.name}`);
        }
      });
    });
  }

  it('serves every relay workload\'s web UI on port 12000, through the Service that selects it', () => {
    for (const [set, dirs] of Object.entries(WORKLOAD_SETS).filter(([name]) => name.startsWith('relay'))) {
      const docs = docsIn(...dirs);
      const w = docs.find((d) => ['Deployment', 'StatefulSet'].includes(d.kind)) as Obj;
      const c = w.spec.template.spec.containers[0] as Obj;
      assert.deepEqual(values(c.args as string[], '--ui-listen'), ['0.0.0.0:12000'], set);
      assert.equal((c.ports as Obj[]).find((p) => p.name === 'ui')?.containerPort, 12000, set);
      const app = w.spec.template.metadata.labels['app.kubernetes.io/name'];
      const svc = docs.filter((d) => d.kind === 'Service' && d.spec.clusterIP !== 'None' && d.spec.selector['app.kubernetes.io/name'] === app);
      assert.equal(svc.length, 1, `${set}: one Service for ${app}`);
      assert.ok((svc[0].spec.ports as Obj[]).some((p) => p.name === 'ui' && p.port === 12000 && p.targetPort === 12000), `${set}: ${svc[0].metadata.name} has port ui`);
    }
  });

  it('lets the relay read the Cillion resources, and write nothing', () => {
    const role = docsIn('relay').find((d) => d.kind === 'ClusterRole') as Obj;
    assert.deepEqual((role.rules as Obj[]).flatMap((r) => r.verbs).sort(), ['list', 'watch']);
  });

  describe('relay replicas', () => {
    const agentArgs = (docsIn('agent').find((d) => d.kind === 'DaemonSet') as Obj).spec.template.spec.containers[0].args as string[];
    const relayDocs = docsIn('relay');
    const sets = RELAY_MODES.map((mode) => ({ mode, sts: docsIn(mode).find((d) => d.kind === 'StatefulSet') as Obj }));
    const container = (sts: Obj): Obj => sts.spec.template.spec.containers[0];
    /** Replica i as the agents and the replicas reach it: <pod>.<headless service>.<namespace>.svc:<port>. */
    const replicaAddresses = (sts: Obj): string[] => {
      const headless = relayDocs.find((d) => d.kind === 'Service' && d.metadata.name === sts.spec.serviceName) as Obj;
      assert.ok(headless, `the StatefulSet's serviceName ${sts.spec.serviceName} is a Service`);
      assert.equal(headless.spec.clusterIP, 'None', 'headless: a DNS name per replica');
      assert.equal(headless.spec.publishNotReadyAddresses, true, 'a starting replica is already reachable by its peers');
      assert.deepEqual(headless.spec.selector, sts.spec.template.metadata.labels);
      const port = headless.spec.ports.find((p: Obj) => p.name === 'grpc').port;
      assert.ok((container(sts).ports as Obj[]).some((p) => p.containerPort === port));
      return Array.from({ length: sts.spec.replicas }, (_, i) => `${sts.metadata.name}-${i}.${headless.metadata.name}.${sts.metadata.namespace}.svc:${port}`);
    };

    it('runs several replicas, and the agents export to each by its name, in order', () => {
      for (const { mode, sts } of sets) {
        assert.ok(sts.spec.replicas >= 2, mode);
        assert.deepEqual(values(agentArgs, '--relay'), replicaAddresses(sts), `${mode}: the agents' failover list is the replicas`);
      }
      assert.equal(values(agentArgs, '--relay-failover').length, 1);
    });

    it('names each replica by cluster and pod, and gives every replica every replica as a peer under that name', () => {
      for (const { mode, sts } of sets) {
        const c = container(sts);
        const args = c.args as string[];
        const env = new Map(((c.env ?? []) as Obj[]).map((e) => [e.name as string, e]));
        assert.deepEqual(values(args, '--name'), ['$(CLUSTER_NAME)-$(POD_NAME)'], mode);
        assert.deepEqual(values(args, '--cluster'), ['$(CLUSTER_NAME)'], mode);
        assert.equal(env.get('POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
        assert.match(env.get('CLUSTER_NAME')?.value ?? '', /^[a-z0-9-]+$/);
        const peers = peersOf(args);
        assert.equal(new Set(peers.map(([n]) => n)).size, peers.length, `${mode}: peer names are unique`);
        const own = replicaAddresses(sts).map((address, i) => [`$(CLUSTER_NAME)-${sts.metadata.name}-${i}`, address]);
        assert.deepEqual(peers.filter((p) => !federated(peers).includes(p)), own, `${mode}: every replica, by name`);
        for (const [name] of federated(peers)) assert.ok(!name.includes('$('), `${mode}: federated peer ${name} is named by its own cluster`);
        const peerCert = values(args, '--peer-cert')[0]!;
        const mount = (c.volumeMounts as Obj[]).find((m) => peerCert.startsWith(`${m.mountPath}/`)) as Obj;
        const volume = (sts.spec.template.spec.volumes as Obj[]).find((v) => v.name === mount?.name) as Obj;
        assert.equal(volume?.secret?.secretName, 'cillion-relay-peer-tls', `${mode}: the peer certificate from its Secret`);
        assert.ok(values(args, '--peer-key')[0]!.startsWith(`${mount.mountPath}/`));
      }
    });

    it('stores in one shared ClickHouse or in each replica\'s own volume, and differs in nothing else but the federated peers', () => {
      const [shared, own] = sets.map(({ sts }) => container(sts).args as string[]);
      // A shared-store replica asks no peer for history: another cluster's relays cannot be among its peers.
      assert.deepEqual(federated(peersOf(shared)), []);
      const remote = federated(peersOf(own));
      assert.ok(remote.length > 0, 'own-store replicas peer the other cluster\'s replicas themselves');
      assert.ok(shared.includes('--shared-store') && values(shared, '--clickhouse-url').length === 1 && !shared.includes('--data-dir'));
      assert.ok(!own.includes('--shared-store') && !own.includes('--clickhouse-url'));
      const ownSts = sets[1].sts;
      const dataDir = values(own, '--data-dir')[0]!;
      const mount = (container(ownSts).volumeMounts as Obj[]).find((m) => dataDir.startsWith(`${m.mountPath}/`)) as Obj;
      assert.ok((ownSts.spec.volumeClaimTemplates as Obj[]).some((t) => t.metadata.name === mount?.name), 'the store on a volume of its own per replica');
      const remoteArgs = new Set(remote.map((p) => p.join('=')));
      const storeless = (args: string[]) =>
        args.filter((a, i) => !['--clickhouse-url', '--data-dir', '--shared-store'].includes(a) && !['--clickhouse-url', '--data-dir'].includes(args[i - 1]!) && !remoteArgs.has(a) && !remoteArgs.has(args[i + 1]!));
      assert.deepEqual(storeless(own), storeless(shared));
    });

    it('gives a shared-store cluster a federation relay: its store for history, every replica of both clusters as peers', () => {
      const docs = docsIn('relay/federation-relay');
      const dep = docs.find((d) => d.kind === 'Deployment') as Obj;
      const args = container(dep).args as string[];
      const [shared, own] = sets.map(({ sts }) => container(sts).args as string[]);
      assert.ok(!args.includes('--shared-store') && values(args, '--clickhouse-url').length === 1, 'it reads its cluster\'s history from the shared store and asks its peers for theirs');
      assert.deepEqual(peersOf(args), [...peersOf(shared), ...federated(peersOf(own))]);
      // Not one of the replicas: the replicas' Services and the agents never reach it.
      const label = dep.spec.template.metadata.labels['app.kubernetes.io/name'];
      assert.notEqual(label, sets[0].sts.spec.template.metadata.labels['app.kubernetes.io/name']);
      const svc = docs.find((d) => d.kind === 'Service') as Obj;
      assert.equal(svc.spec.selector['app.kubernetes.io/name'], label);
      const relayCert = docsIn('certs').find((d) => d.kind === 'Certificate' && d.spec.secretName === 'cillion-relay-tls') as Obj;
      assert.ok(relayCert.spec.dnsNames.includes(`${svc.metadata.name}.${svc.metadata.namespace}.svc`), 'its Service\'s name is in the relays\' certificate');
    });

    it('makes each replica reachable for federation at an address of its own', () => {
      const services = docsIn('relay/federation').filter((d) => d.kind === 'Service');
      for (const { mode, sts } of sets) {
        for (let i = 0; i < sts.spec.replicas; i++) {
          const pod = `${sts.metadata.name}-${i}`;
          const svc = services.filter((s) => s.spec.selector['statefulset.kubernetes.io/pod-name'] === pod);
          assert.equal(svc.length, 1, `${mode}: one federation Service for ${pod}`);
          assert.equal(svc[0].spec.selector['app.kubernetes.io/name'], sts.spec.template.metadata.labels['app.kubernetes.io/name']);
          assert.ok((container(sts).ports as Obj[]).some((p) => p.containerPort === svc[0].spec.ports[0].targetPort));
        }
        assert.equal(services.length, sts.spec.replicas);
      }
    });
  });

  it('issues cert-manager certificates the relay reads as intended: its names, a node\'s collector, a reader-attester, the relays\' peer', () => {
    const certs = docsIn('certs').filter((d) => d.kind === 'Certificate');
    const svc = docsIn('relay').find((d) => d.kind === 'Service' && d.metadata.name === 'cillion-relay') as Obj;
    const relay = certs.find((c) => c.spec.secretName === 'cillion-relay-tls') as Obj;
    assert.ok(relay.spec.dnsNames.includes(`${svc.metadata.name}.${svc.metadata.namespace}.svc`));
    // The agents and the replicas reach each replica by its own name; federated relays check the Service's.
    const agentArgs = (docsIn('agent').find((d) => d.kind === 'DaemonSet') as Obj).spec.template.spec.containers[0].args as string[];
    for (const target of values(agentArgs, '--relay')) assert.ok((relay.spec.dnsNames as string[]).some((n) => covers(n, target.slice(0, target.lastIndexOf(':')))), target);
    for (const mode of RELAY_MODES) {
      const args = (docsIn(mode).find((d) => d.kind === 'StatefulSet') as Obj).spec.template.spec.containers[0].args as string[];
      for (const name of values(args, '--peer-server-name')) assert.ok(relay.spec.dnsNames.includes(name), name);
    }
    assert.equal(covers('*.a.svc', 'x.y.a.svc'), false, 'a wildcard covers one label');
    const policy = new AccessPolicy();
    const identity = (c: Obj) => policy.identify(true, { subject: { CN: c.spec.commonName } as never, subjectaltname: (c.spec.uris as string[]).map((u) => `URI:${u}`).join(', ') });
    const node = identity(certs.find((c) => c.metadata.name === 'cillion-agent-node-a') as Obj);
    assert.deepEqual([node.name, [...node.roles]], ['node-a', ['collector']]);
    const auditor = identity(certs.find((c) => c.metadata.name === 'cillion-auditor') as Obj);
    assert.deepEqual([auditor.name, [...auditor.roles].sort()], ['auditor', ['attester', 'reader']]);
    const peer = certs.find((c) => c.spec.secretName === 'cillion-relay-peer-tls') as Obj;
    const peerId = identity(peer);
    const cluster = ((docsIn('relay/shared-store').find((d) => d.kind === 'StatefulSet') as Obj).spec.template.spec.containers[0].env as Obj[]).find((e) => e.name === 'CLUSTER_NAME')?.value;
    assert.deepEqual([peerId.name, [...peerId.roles]], [cluster, ['peer']], 'the relays\' peer certificate is named by their cluster');
    assert.deepEqual(peer.spec.uris, [`spiffe://cillion/cillion/peer/${cluster}`]);
    assert.deepEqual(peer.spec.usages.filter((u: string) => u.endsWith('auth')), ['client auth']);
    const agent = docsIn('agent').find((d) => d.kind === 'DaemonSet') as Obj;
    const tls = (agent.spec.template.spec.volumes as Obj[]).find((v) => v.name === 'tls') as Obj;
    assert.equal(tls.hostPath?.path, '/etc/cillion/agent-tls', 'each node mounts its own certificate, not a shared Secret');
  });

  it('lets the agent read what it programs from, and write nothing', () => {
    const role = docsIn('agent').find((d) => d.kind === 'ClusterRole') as Obj;
    const grants = (role.rules as Obj[]).flatMap((r) => (r.resources as string[]).flatMap((res) => (r.verbs as string[]).map((v) => `${r.apiGroups[0] || 'core'}/${res}:${v}`)));
    for (const res of ['cillion.io/clusterases', 'cillion.io/remoteclusters', 'cillion.io/wanpathpolicies', 'cillion.io/geofences', 'cillion.io/cillionnetworkpolicies', 'cillion.io/srv6tenants', 'cillion.io/srv6pathpolicies', 'cillion.io/cillionidentities', 'core/pods', 'core/namespaces']) {
      assert.ok(grants.includes(`${res}:list`) && grants.includes(`${res}:watch`), res);
    }
    assert.deepEqual(grants.filter((g) => !/:(list|watch)$/.test(g)), []);
    const ds = docsIn('agent').find((d) => d.kind === 'DaemonSet') as Obj;
    assert.equal(ds.spec.template.spec.hostNetwork, true, 'the uplinks are the node\'s own devices');
    assert.ok((ds.spec.template.spec.volumes as Obj[]).some((v) => v.hostPath?.path === '/sys/fs/bpf'), 'pins outlive the pod');
  });

  it('gives the agent its mesh file from a ConfigMap and the keys between clusters from a Secret, in one directory only it reads', () => {
    const ds = docsIn('agent').find((d) => d.kind === 'DaemonSet') as Obj;
    const pod = ds.spec.template.spec;
    const args = pod.containers[0].args as string[];
    const meshFile = args[args.indexOf('--mesh') + 1]!;
    const mount = (pod.containers[0].volumeMounts as Obj[]).find((m) => meshFile.startsWith(`${m.mountPath}/`)) as Obj;
    assert.ok(mount, `${meshFile} is in a mounted volume`);
    const volume = (pod.volumes as Obj[]).find((v) => v.name === mount.name) as Obj;
    const sources = volume.projected.sources as Obj[];
    assert.ok(sources.some((s) => s.configMap?.name === 'cillion-mesh'), 'the mesh file and public keys from a ConfigMap');
    assert.ok(sources.some((s) => s.secret?.name === 'cillion-mesh-keys'), 'the master secret and signing key from a Secret');
    // mesh/config.ts refuses a master secret that group or others may read.
    assert.equal(volume.projected.defaultMode & 0o077, 0);
    assert.ok(sources.every((s) => ((s.configMap ?? s.secret).items ?? []).every((i: Obj) => i.mode === undefined)));
  });
});
