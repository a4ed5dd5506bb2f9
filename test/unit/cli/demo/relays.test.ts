// The demo's relays and their certificates: one relay per cluster, each peering every other
// over loopback with a peer-role certificate of the demo CA, each agent's cluster's relay
// its only export target, and an env file per relay for the user.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envFileOf, mintDemoCerts, P12_PASSWORD, spkiHash } from '../../../../cli/demo/certs';
import { planRelays, relayOf, RELAY_METRICS_BASE, RELAY_UI_BASE, uiUrl } from '../../../../cli/demo/relays';
import { AGENT_METRICS_BASE, ROUTER_METRICS_BASE } from '../../../../cli/demo/run';
import { AccessPolicy } from '../../../../relay/auth/policy';

describe('cli/demo/relays: a relay per cluster, federated', () => {
  it('gives each cluster its own name, address, metrics port and store, and peers it with every other', () => {
    const relays = planRelays(['zurich', 'frankfurt'], '127.0.0.1:4245', '/run/demo');
    assert.deepEqual(
      relays.map((r) => [r.cluster, r.name, r.listen, r.metrics, r.ui, r.dataDir]),
      [
        ['zurich', 'zurich-relay', '127.0.0.1:4245', `127.0.0.1:${RELAY_METRICS_BASE}`, '127.0.0.1:12000', '/run/demo/store/zurich'],
        ['frankfurt', 'frankfurt-relay', '127.0.0.1:4246', `127.0.0.1:${RELAY_METRICS_BASE + 1}`, '127.0.0.1:12001', '/run/demo/store/frankfurt'],
      ],
    );
    // The first relay's UI on the relay's own default port, as Hubble UI's; the browser opens it by an address its certificate names.
    assert.equal(RELAY_UI_BASE, 12000);
    assert.deepEqual(relays.map(uiUrl), ['https://127.0.0.1:12000/', 'https://127.0.0.1:12001/']);
    assert.deepEqual(relays[0].peers, [{ name: 'frankfurt-relay', address: '127.0.0.1:4246' }]);
    assert.deepEqual(relays[1].peers, [{ name: 'zurich-relay', address: '127.0.0.1:4245' }]);
    assert.equal(relayOf(relays, 'frankfurt'), relays[1]);
    assert.throws(() => relayOf(relays, 'paris'), /no relay for cluster paris/);
    // Its metrics ports are no router's or agent's (those count up from their bases for a few dozen).
    for (const r of relays) {
      const port = Number(r.metrics.split(':')[1]);
      assert.ok(port < ROUTER_METRICS_BASE || port > AGENT_METRICS_BASE + 50, r.metrics);
    }
    // No two listeners of the demo share a port.
    const ports = relays.flatMap((r) => [r.listen, r.metrics, r.ui]).map((a) => a.split(':')[1]);
    assert.equal(new Set(ports).size, ports.length, ports.join(' '));
  });

  it('peers each of three clusters with the two others, never itself', () => {
    const relays = planRelays(['a', 'b', 'c'], '[::1]:5000', '/r');
    assert.deepEqual(relays.map((r) => r.listen), ['[::1]:5000', '[::1]:5001', '[::1]:5002']);
    for (const r of relays) assert.deepEqual(r.peers.map((p) => p.name).sort(), relays.filter((o) => o !== r).map((o) => o.name).sort());
  });

  it('refuses an address without a port, or without room for every cluster\'s port', () => {
    assert.throws(() => planRelays(['a', 'b'], '127.0.0.1', '/r'), /expected host:port/);
    assert.throws(() => planRelays(['a', 'b'], '127.0.0.1:65535', '/r'), /room for 2 consecutive ports/);
  });
});

describe('cli/demo/certs: the demo CA\'s certificates for two federated relays', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cildemo-certs-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('mints each relay a server certificate and a peer certificate by its name, and an env file that reaches it as the reader', () => {
    const relays = planRelays(['zurich', 'frankfurt'], '127.0.0.1:4245', dir);
    const certs = mintDemoCerts(dir, relays, ['zrh-node-1', 'fra-node-1']);
    const ca = new X509Certificate(readFileSync(certs.ca));
    const policy = new AccessPolicy();
    const who = (file: string) => {
      const x = new X509Certificate(readFileSync(file));
      assert.ok(x.verify(ca.publicKey), `${file} is signed by the demo CA`);
      return { x, id: policy.identify(true, { subject: { CN: /CN=([^\n]+)/.exec(x.subject)?.[1] } as never, subjectaltname: x.subjectAltName }) };
    };
    for (const r of relays) {
      const own = certs.relays.get(r.cluster);
      assert.ok(own);
      const peer = who(own.peer.cert);
      assert.deepEqual([peer.id.name, [...peer.id.roles]], [r.name, ['peer']]);
      assert.match(peer.x.subjectAltName ?? '', new RegExp(`URI:spiffe://cillion/cillion/peer/${r.name}`));
      const server = who(own.server.cert);
      assert.ok(server.x.checkHost('localhost') && server.x.checkIP('127.0.0.1'), 'peers and clients reach it by localhost or 127.0.0.1');
      assert.deepEqual([...server.id.roles], [], 'the server certificate grants nothing as a client');
      const env = readFileSync(own.envFile, 'utf8');
      assert.equal(own.envFile, envFileOf(dir, r.cluster));
      assert.match(env, new RegExp(`^export CILLION_SERVER=${r.listen.replace(/\./g, '\\.')}$`, 'm'));
      assert.match(env, new RegExp(`^export CILLION_TLS_CLIENT_CERT_FILE=${certs.reader.cert}$`, 'm'));
    }
    const node = who(certs.agents.get('fra-node-1')?.cert as string);
    assert.deepEqual([node.id.name, [...node.id.roles]], ['fra-node-1', ['collector']]);
  });

  it('writes the reader, the attester and the auditor (both roles) as PKCS#12 for a browser: the same certificate and key, with the CA, under the password the banner names', () => {
    const relays = planRelays(['zurich', 'frankfurt'], '127.0.0.1:4245', dir);
    const certs = mintDemoCerts(dir, relays, []);
    const auditor = new X509Certificate(readFileSync(certs.auditor.cert));
    const id = new AccessPolicy().identify(true, { subject: { CN: 'demo-auditor' } as never, subjectaltname: auditor.subjectAltName });
    assert.deepEqual([id.name, [...id.roles].sort()], ['demo-auditor', ['attester', 'reader']]);
    for (const [who, role] of [[certs.reader, 'reader'], [certs.attester, 'attester'], [certs.auditor, 'auditor']] as const) {
      assert.equal(who.p12, join(dir, 'certs', role, `${role}.p12`));
      const read = (args: string[]): string => execFileSync('openssl', ['pkcs12', '-in', who.p12, '-passin', `pass:${P12_PASSWORD}`, ...args], { encoding: 'utf8' });
      const chain = [...read(['-nokeys']).matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]));
      assert.deepEqual(chain.map((c) => c.fingerprint256).sort(), [new X509Certificate(readFileSync(who.cert)), new X509Certificate(readFileSync(certs.ca))].map((c) => c.fingerprint256).sort());
      const key = createPrivateKey(read(['-nocerts', '-nodes']));
      assert.ok(createPrivateKey(readFileSync(who.key)).export({ format: 'jwk' }).d === key.export({ format: 'jwk' }).d, `${role}: the PEM's key`);
      assert.throws(() => read(['-nokeys', '-passin', 'pass:wrong']), `${role}: a wrong password is refused`);
    }
  });

  it('names each relay\'s server key by the SHA-256 of its SubjectPublicKeyInfo, as Chromium\'s SPKI list takes it', () => {
    const relays = planRelays(['zurich', 'frankfurt'], '127.0.0.1:4245', dir);
    const certs = mintDemoCerts(dir, relays, []);
    const pins = relays.map((r) => {
      const server = certs.relays.get(r.cluster)?.server;
      assert.ok(server);
      const fromKey = createHash('sha256').update(createPublicKey(createPrivateKey(readFileSync(server.key))).export({ type: 'spki', format: 'der' })).digest('base64');
      assert.equal(spkiHash(server.cert), fromKey);
      return fromKey;
    });
    assert.notEqual(pins[0], pins[1], 'each relay its own key');
  });
});
