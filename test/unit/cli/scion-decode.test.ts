import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPathService } from '../../../controlplane/pathservice';
import { parseIA } from '../../../scion/isdas';
import { encodePacket, type ScionPacket } from '../../../scion/packet';
import { encodeShim, PROTO_CILLION_SHIM, SHIM_INNER_IPV4 } from '../../../scion/shim';
import { cillionSpaoOption, sealCillion } from '../../../scion/spao/cillion';
import { ARP_FRAME, ethernetIpv4Udp, pcap, pcapng, rawIpv6Udp } from './fixtures/capture-writer';
import { until } from '../../until';

const ROOT = join(__dirname, '..', '..', '..');

function cillion(args: string[], input?: Buffer): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
}

const jsonLines = (out: string): any[] => out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

// A real Zurich → Frankfurt path from the embedded control plane, with real hop-field MACs.
const service = EmbeddedPathService.fromFile(join(ROOT, 'examples/topology.yaml'), { now: () => 1_760_000_000, seed: 7 });
const [cpPath] = service.pathsSync(parseIA('64-2:0:20'), parseIA('65-2:0:20'));
const masterKeys = cpPath.hopFieldAses.map((ia) => Buffer.from(service.topology.ases.get(ia)!.masterKey).toString('base64'));

function packet(path = cpPath.path): ScionPacket {
  return {
    common: { version: 0, trafficClass: 0, flowId: 0x12345, nextHdr: 0, hdrLen: 0, payloadLen: 0, pathType: 'SCION' },
    dstIA: parseIA('65-2:0:20'),
    srcIA: parseIA('64-2:0:20'),
    dst: { kind: 'IPv4', bytes: new Uint8Array([10, 165, 0, 7]) },
    src: { kind: 'IPv6', bytes: new Uint8Array([0xfd, 0, 1, 0x64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]) },
    path,
    extensions: [],
    l4: { kind: 'UDP', srcPort: 40000, dstPort: 5432, length: 0, checksum: null, payload: new Uint8Array([1, 2, 3]) },
  };
}
const bytes = Buffer.from(encodePacket(packet()));

describe('cillion scion decode', function () {
  this.timeout(30000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-decode-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists its commands in --help and rejects unknown ones with exit code 2', () => {
    const help = cillion(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /scion\s+SCION wire-format tools/);
    assert.match(cillion(['scion', 'decode', '--help']).stdout, /--keys <file>/);
    const bad = cillion(['nonsense']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown command 'nonsense'/);
    assert.equal(cillion(['scion', 'decode', '--nope']).status, 2);
  });

  it('prints the documented JSON for --hex input', () => {
    const r = cillion(['scion', 'decode', '--hex', bytes.toString('hex'), '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const [p] = jsonLines(r.stdout);
    assert.deepEqual(p.common, {
      version: 0,
      trafficClass: 0,
      flowId: 0x12345,
      nextHdr: 17,
      hdrLen: bytes.length - 11,
      payloadLen: 11,
      pathType: 'SCION',
    });
    assert.equal(p.dstIA, '65-2:0:20');
    assert.equal(p.srcIA, '64-2:0:20');
    assert.equal(p.dstHost, '10.165.0.7');
    assert.equal(p.srcHost, 'fd00:164::5');
    assert.deepEqual(p.path.segLens, [...cpPath.path.meta.segLens]);
    assert.equal(p.path.hopFields.length, cpPath.path.hopFields.length);
    const h0 = cpPath.path.hopFields[0];
    assert.deepEqual(p.path.hopFields[0], {
      ingressAlert: false,
      egressAlert: false,
      expTime: h0.expTime,
      consIngress: h0.consIngress,
      consEgress: h0.consEgress,
      mac: Buffer.from(h0.mac).toString('hex'),
    });
    assert.deepEqual(p.path.infoFields[0], {
      consDir: cpPath.path.infoFields[0].consDir,
      peer: false,
      segId: cpPath.path.infoFields[0].segId,
      timestamp: cpPath.path.infoFields[0].timestamp,
    });
    assert.deepEqual(p.extensions, []);
    assert.equal(p.l4.protocol, 'UDP');
    assert.equal(p.l4.srcPort, 40000);
    assert.equal(p.l4.dstPort, 5432);
    assert.equal(p.l4.length, 11);
    assert.equal(p.l4.checksumValid, true);
  });

  it('names the Cillion shim under protocol 253: identity, cluster and inner packet, behind a sealed SPAO', () => {
    const inner = Uint8Array.from([0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 164, 0, 5, 10, 165, 0, 7]);
    const p: ScionPacket = {
      ...packet(),
      src: { kind: 'IPv4', bytes: new Uint8Array([10, 164, 0, 5]) },
      extensions: [{ kind: 'E2E', options: [cillionSpaoOption(0n, 1_000n)] }],
      l4: { kind: 'Raw', nextHdr: PROTO_CILLION_SHIM, payload: encodeShim({ innerProto: SHIM_INNER_IPV4, identity: (1 << 16) | 256 }, inner) },
    };
    const sealed = Buffer.from(sealCillion(encodePacket(p), new Uint8Array(16)));
    const json = cillion(['scion', 'decode', '--hex', sealed.toString('hex'), '-o', 'json']);
    assert.equal(json.status, 0, json.stderr);
    const [d] = jsonLines(json.stdout);
    assert.deepEqual(d.l4, { protocol: 'CillionShim', identity: 65792, clusterId: 1, innerProto: 4, inner: { src: '10.164.0.5', dst: '10.165.0.7', proto: 17 }, length: 28 });
    assert.equal(d.extensions[0].options[0].type, 2);
    const text = cillion(['scion', 'decode', '--hex', sealed.toString('hex')]);
    assert.match(text.stdout, /Shim {4}Cillion \(protocol 253, experimental\): identity 65792 \(cluster 1\) {2}inner IPv4 10\.164\.0\.5 → 10\.165\.0\.7 proto 17/);
  });

  it('reads a raw file and standard input alike', () => {
    const file = join(dir, 'pkt.bin');
    writeFileSync(file, bytes);
    const fromFile = cillion(['scion', 'decode', file, '-o', 'json']);
    const fromStdin = cillion(['scion', 'decode', '-o', 'json'], bytes);
    assert.equal(fromFile.status, 0);
    assert.equal(fromStdin.status, 0);
    assert.equal(fromFile.stdout, fromStdin.stdout);
    assert.equal(jsonLines(fromFile.stdout)[0].srcIA, '64-2:0:20');
  });

  it('checks every hop-field MAC with --keys, and catches a tampered one', () => {
    const keys = join(dir, 'keys.json');
    writeFileSync(keys, JSON.stringify(masterKeys));
    const good = jsonLines(cillion(['scion', 'decode', '--hex', bytes.toString('hex'), '--keys', keys, '-o', 'json']).stdout)[0];
    assert.deepEqual(good.path.hopFields.map((h: { macValid: boolean }) => h.macValid), masterKeys.map(() => true));

    const tampered = structuredClone(cpPath.path);
    tampered.hopFields[1].mac[0] ^= 0x01;
    const hex = Buffer.from(encodePacket(packet(tampered))).toString('hex');
    const skipFirst = join(dir, 'keys-skip.json');
    writeFileSync(skipFirst, JSON.stringify([null, ...masterKeys.slice(1)]));
    const bad = jsonLines(cillion(['scion', 'decode', '--hex', hex, '--keys', skipFirst, '-o', 'json']).stdout)[0];
    const verdicts = bad.path.hopFields.map((h: { macValid: boolean | null }) => h.macValid);
    assert.equal(verdicts[0], null);
    assert.equal(verdicts[1], false);
    const text = cillion(['scion', 'decode', '--hex', hex, '--keys', skipFirst]);
    assert.match(text.stdout, /INVALID/);
  });

  it('decodes SCION from pcap (Ethernet/IPv4) and pcapng (raw IPv6), skipping and counting the rest', () => {
    const notScion = Buffer.from('hello, not scion');
    const cap = pcap(1, [ethernetIpv4Udp(bytes), ARP_FRAME, ethernetIpv4Udp(notScion), ethernetIpv4Udp(bytes)]);
    const file = join(dir, 'cap.pcap');
    writeFileSync(file, cap);
    const r = cillion(['scion', 'decode', file, '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(jsonLines(r.stdout).length, 2);
    assert.match(r.stderr, /2 SCION packets decoded, 2 frames skipped/);

    const ng = join(dir, 'cap.pcapng');
    writeFileSync(ng, pcapng(101, [rawIpv6Udp(bytes), rawIpv6Udp(notScion)]));
    const r6 = cillion(['scion', 'decode', ng, '-o', 'json']);
    assert.equal(r6.status, 0, r6.stderr);
    assert.equal(jsonLines(r6.stdout)[0].dstIA, '65-2:0:20');
    assert.match(r6.stderr, /1 SCION packets decoded, 1 frames skipped/);
  });

  it('reports a malformed packet as an error object with code and offset, exit code 1', () => {
    const truncated = bytes.subarray(0, bytes.length - 1).toString('hex');
    const r = cillion(['scion', 'decode', '--hex', truncated, '-o', 'json']);
    assert.equal(r.status, 1);
    const [{ error }] = jsonLines(r.stdout);
    assert.equal(error.code, 'TRUNCATED');
    assert.equal(typeof error.offset, 'number');
    assert.ok(error.offset >= 0);
    const text = cillion(['scion', 'decode', '--hex', '00']);
    assert.equal(text.status, 1);
    assert.match(text.stdout, /TRUNCATED at offset/);
  });

  it('refuses a garbage capture and unreadable input clearly, exit code 2', () => {
    const file = join(dir, 'broken.pcap');
    writeFileSync(file, pcap(1, [ethernetIpv4Udp(bytes)]).subarray(0, 40));
    const r = cillion(['scion', 'decode', file]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /pcap record 1 claims \d+ bytes/);
    const missing = cillion(['scion', 'decode', join(dir, 'absent.bin')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read/);
    assert.equal(cillion(['scion', 'decode', '--hex', 'abc']).status, 2);
  });

  it('decodes a capture that tcpdump wrote of SCION datagrams sent on loopback', async function () {
    const probe = spawnSync('tcpdump', ['--version']);
    if (probe.error || process.getuid?.() !== 0) {
      if (process.env.CILLION_REQUIRE_BPF === '1') throw new Error('tcpdump as root is required under CILLION_REQUIRE_BPF=1');
      this.skip();
    }
    const file = join(dir, 'lo.pcap');
    // A receiver on a port the OS chose: nothing else sends there.
    const sink = createSocket('udp4');
    await new Promise<void>((res) => sink.bind(0, '127.0.0.1', res));
    const { port } = sink.address();
    const dump = spawn('tcpdump', ['--immediate-mode', '-i', 'lo', '-U', '-w', file, 'udp', 'and', 'port', String(port)]);
    await new Promise<void>((resolve, reject) => {
      dump.stderr.on('data', (d: Buffer) => d.toString().includes('listening on') && resolve());
      dump.on('exit', (code) => reject(new Error(`tcpdump exited ${code}`)));
    });
    const sock = createSocket('udp4');
    for (let i = 0; i < 3; i++) await new Promise((res) => sock.send(bytes, port, '127.0.0.1', res));
    sock.close();
    // tcpdump has written the three once the file holds them: the pcap header, then per
    // packet a record header and the frame (Ethernet on lo, IPv4, UDP, the datagram).
    const written = 24 + 3 * (16 + 14 + 20 + 8 + bytes.length);
    await until('tcpdump to write the 3 datagrams', () => existsSync(file) && statSync(file).size >= written);
    sink.close();
    const exited = new Promise((res) => dump.on('exit', res));
    dump.kill('SIGINT');
    await exited;
    const r = cillion(['scion', 'decode', file, '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const pkts = jsonLines(r.stdout);
    assert.equal(pkts.length, 3);
    assert.ok(pkts.every((p) => p.srcIA === '64-2:0:20' && p.l4.checksumValid === true));
  });
});

describe('bin/cillion', () => {
  it('runs the compiled CLI (after make build)', function () {
    if (!require('node:fs').existsSync(join(ROOT, 'dist/cli/main.js'))) this.skip();
    const r = spawnSync(join(ROOT, 'bin/cillion'), ['--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  });
});
