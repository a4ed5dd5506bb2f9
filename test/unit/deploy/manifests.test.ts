// The Kubernetes manifests under deploy/: every `cillion` container runs a subcommand with
// options it has, with the variables, volumes and service accounts it refers to defined.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { agentCommand } from '../../../cli/commands/agent';
import { operatorCommand } from '../../../cli/commands/operator';
import { relayCommand } from '../../../cli/commands/relay';
import { AccessPolicy } from '../../../relay/auth/policy';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const DEPLOY = resolve(__dirname, '..', '..', '..', 'deploy');
const COMMANDS: Record<string, () => Command> = { agent: agentCommand, operator: operatorCommand, relay: relayCommand };

function docsIn(dir: string): Obj[] {
  return readdirSync(join(DEPLOY, dir))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(DEPLOY, dir, f), 'utf8')).map((d) => d.toJS() as Obj))
    .filter((d) => d !== null);
}

/** Folders of deploy/ that run a `cillion` process. */
const WORKLOAD_DIRS = ['agent', 'operator', 'relay'];

describe('deploy/ manifests', () => {
  for (const dir of WORKLOAD_DIRS) {
    describe(`deploy/${dir}/`, () => {
      const docs = docsIn(dir);
      const workloads = docs.filter((d) => ['Deployment', 'DaemonSet'].includes(d.kind));

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
          const volumes = new Set(((pod.volumes ?? []) as Obj[]).map((v) => v.name as string));
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

  it('lets the agent and the relay read the Cillion resources, and write nothing', () => {
    const role = docsIn('relay').find((d) => d.kind === 'ClusterRole') as Obj;
    assert.deepEqual((role.rules as Obj[]).flatMap((r) => r.verbs).sort(), ['list', 'watch']);
    const svc = docsIn('relay').find((d) => d.kind === 'Service') as Obj;
    const agent = docsIn('agent').find((d) => d.kind === 'DaemonSet') as Obj;
    const agentArgs = agent.spec.template.spec.containers[0].args as string[];
    const target = agentArgs[agentArgs.indexOf('--relay') + 1];
    assert.equal(target, `${svc.metadata.name}.${svc.metadata.namespace}.svc:${svc.spec.ports.find((p: Obj) => p.name === 'grpc').port}`, 'the agents export to the relay Service');
  });

  it('issues cert-manager certificates the relay reads as intended: its server name, a node\'s collector, a reader-attester', () => {
    const certs = docsIn('certs').filter((d) => d.kind === 'Certificate');
    const svc = docsIn('relay').find((d) => d.kind === 'Service') as Obj;
    const relay = certs.find((c) => c.spec.secretName === 'cillion-relay-tls') as Obj;
    assert.ok(relay.spec.dnsNames.includes(`${svc.metadata.name}.${svc.metadata.namespace}.svc`));
    const policy = new AccessPolicy();
    const identity = (c: Obj) => policy.identify(true, { subject: { CN: c.spec.commonName } as never, subjectaltname: (c.spec.uris as string[]).map((u) => `URI:${u}`).join(', ') });
    const node = identity(certs.find((c) => c.metadata.name === 'cillion-agent-node-a') as Obj);
    assert.deepEqual([node.name, [...node.roles]], ['node-a', ['collector']]);
    const auditor = identity(certs.find((c) => c.metadata.name === 'cillion-auditor') as Obj);
    assert.deepEqual([auditor.name, [...auditor.roles].sort()], ['auditor', ['attester', 'reader']]);
    const agent = docsIn('agent').find((d) => d.kind === 'DaemonSet') as Obj;
    const tls = (agent.spec.template.spec.volumes as Obj[]).find((v) => v.name === 'tls') as Obj;
    assert.equal(tls.hostPath?.path, '/etc/cillion/agent-tls', 'each node mounts its own certificate, not a shared Secret');
  });

  it('lets the agent read what it programs from, and write nothing', () => {
    const role = docsIn('agent').find((d) => d.kind === 'ClusterRole') as Obj;
    const grants = (role.rules as Obj[]).flatMap((r) => (r.resources as string[]).flatMap((res) => (r.verbs as string[]).map((v) => `${r.apiGroups[0] || 'core'}/${res}:${v}`)));
    for (const res of ['cillion.io/clusterases', 'cillion.io/remoteclusters', 'cillion.io/wanpathpolicies', 'cillion.io/geofences', 'cillion.io/cillionnetworkpolicies', 'cillion.io/cillionidentities', 'core/pods', 'core/namespaces']) {
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
